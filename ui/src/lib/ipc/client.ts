// The only module that talks to Tauri.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { relayApi } from "./bindings";
import type { Backend, Breach, DownloadProgress, LinkState, UploadProgress } from "./types";

export const backend: Backend = {
  appInfo: () => invoke("app_info"),
  signIn: (relayUrl, user, password) => invoke("sign_in", { relayUrl, user, password }),
  signOut: () => invoke("sign_out"),
  linkState: () => invoke("link_state"),
  setShellWords: (words) => invoke("set_shell_words", { words }),
  listConversations: () => invoke("list_conversations"),
  getMessages: (conversationId, before) => invoke("get_messages", { conversationId, before: before ?? null }),
  markRead: (conversationId) => invoke("mark_read", { conversationId }),
  sendText: (conversationId, text, quoteToken) => invoke("send_text", { conversationId, text, quoteToken: quoteToken ?? null }),
  retrySend: (outboxId) => invoke("retry_send", { outboxId }),
  listQuickReplies: () => invoke("list_quick_replies"),
  suggestAnswers: (conversationId) => invoke("suggest_answers", { conversationId }),
  listDrafts: () => invoke("list_drafts"),
  saveDraft: (conversationId, text) => invoke("save_draft", { conversationId, text }),
  search: (query) => invoke("search_messages", { query }),
  fetchMedia: (channelId, messageId) => invoke("fetch_media", { channelId, messageId }),
  fetchPicture: (picture) => invoke("fetch_picture", { picture }),
  sendableStickers: () => invoke("sendable_stickers"),
  sendSticker: (conversationId, packageId, stickerId) => invoke("send_sticker", { conversationId, packageId, stickerId }),
  uploadReplyPicture: (fileName, bytes) => invoke("upload_reply_picture", bytes, { headers: { "x-file-name": encodeURIComponent(fileName) } }),
  sendReplyPicture: (conversationId, replyId) => invoke("send_reply_picture", { conversationId, replyId }),
  openMap: (latitude, longitude) => invoke("open_map", { latitude, longitude }),
  sendAttachment: (conversationId, fileName, bytes, durationMs) =>
    invoke("send_attachment", bytes, {
      headers: {
        "x-conversation": String(conversationId),
        "x-file-name": encodeURIComponent(fileName),
        ...(durationMs ? { "x-duration": String(Math.round(durationMs)) } : {}),
      },
    }),
  fetchUpload: (url) => invoke("fetch_upload", { url }),
  onUploadProgress: (f) => listen<UploadProgress>("upload-progress", (e) => f(e.payload)),
  downloadMedia: (channelId, messageId, fileName) => invoke("download_media", { channelId, messageId, fileName }),
  onDownloadProgress: (f) => listen<DownloadProgress>("download-progress", (e) => f(e.payload)),
  ...relayApi(invoke),
  exportContact: (contactId) => invoke("export_contact", { contactId }),
  saveCsv: (fileName, text) => invoke("save_csv", { fileName, text }),
  exportTranscript: (conversationId, episodeId, text, timeZone) =>
    invoke("export_transcript", { conversationId, episodeId, text, timeZone }),
  setPresence: (presence) => invoke("set_presence", { presence }),
  act: (id, action, body) => invoke("act_conversation", { id, action, body: body ?? null }),
  sendLater: (id, text, at) => invoke("send_later", { id, text, at }),
  listLater: (id) => invoke("list_later", { id }),
  cancelLater: (id, later) => invoke("cancel_later", { id, later }),
  signal: (id, action) => invoke("signal_conversation", { id, action }),
  listAgents: () => invoke("list_agents"),
  listEpisodes: (conversationId) => invoke("list_episodes", { conversationId }),
  onAgentsChanged: (f) => listen("agents-changed", () => f()),
  onSlaBreach: (f) => listen<Breach[]>("sla-breach", (e) => f(e.payload)),
  onReminder: (f) => listen<number>("reminder", (e) => f(e.payload)),
  onConversationUpdated: (f) => listen<number[]>("conversation-updated", (e) => f(e.payload)),
  onOutboxChanged: (f) => listen<string>("outbox-changed", (e) => f(e.payload)),
  onLinkChanged: (f) => listen<LinkState>("link-changed", (e) => f(e.payload)),
  onOpenConversation: (f) => listen<number>("open-conversation", (e) => f(e.payload)),
};
