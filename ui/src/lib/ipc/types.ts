// What the UI asks of the backend. The data types are generated from the Rust types
// (`bindings.ts`, ts-rs; a Rust test fails while it is stale); only the `Backend` contract and
// small helpers are written here.

import type {
  AgentSnapshot, AppInfo, Breach, CommandAnswer, Conversation, ConversationSnapshot, DownloadProgress, Draft, IpcError, LaterMessage, LinkState,
  Media, Message, OutboxRow, Picture, Presence, QuickReply, RelayApi, SearchHit, ShellWords, StickerPackage, Uploaded, Suggestion, TranscriptText, UploadProgress,
} from "./bindings";

export type * from "./bindings";

export const CHOOSABLE_PRESENCE: readonly Presence[] = ["available", "busy", "do_not_disturb", "away", "offline"];

export type RoutingAction = "accept" | "reject" | "wait" | "end" | "close" | "transfer" | "consult" | "join" | "assign" | "monitor" | "note" | "whisper";

/** Everything the UI asks of the backend; `client.ts` implements it over Tauri IPC. The relay
 * calls of the set-up, contact and profile screens (`RelayApi`) are generated with their types. */
export interface Backend extends RelayApi {
  appInfo(): Promise<AppInfo>;
  signIn(relayUrl: string, user: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  linkState(): Promise<LinkState>;
  /** The shell's own words (notification buttons, tray) in the console's language. */
  setShellWords(words: ShellWords): Promise<void>;
  listConversations(): Promise<Conversation[]>;
  getMessages(conversationId: number, before?: number): Promise<Message[]>;
  markRead(conversationId: number): Promise<void>;
  /** Queues a text; `quoteToken` quotes an earlier message of the chat. */
  sendText(conversationId: number, text: string, quoteToken?: string): Promise<OutboxRow>;
  retrySend(outboxId: string): Promise<boolean>;
  /** What the team answered to past questions like the customer's newest one. */
  suggestAnswers(conversationId: number): Promise<Suggestion[]>;
  /** The team's quick replies and the user's own (the last list kept, while offline). */
  listQuickReplies(): Promise<QuickReply[]>;
  /** Every unsent draft, kept in the cache across restarts. */
  listDrafts(): Promise<Draft[]>;
  /** Keeps a conversation's draft (empty: forgets it); durable when it answers. */
  saveDraft(conversationId: number, text: string): Promise<void>;
  search(query: string): Promise<SearchHit[]>;
  fetchMedia(channelId: string, messageId: string): Promise<Media>;
  /** A sticker's, LINE emoji's or customer's picture kept by the relay (`gone`: there is none). */
  fetchPicture(picture: Picture): Promise<Media>;
  /** The stickers LINE lets bots send, by package (the palette). */
  sendableStickers(): Promise<StickerPackage[]>;
  sendSticker(conversationId: number, packageId: string, stickerId: string): Promise<OutboxRow>;
  /** Uploads a quick reply's picture (an image) to the relay. */
  uploadReplyPicture(fileName: string, bytes: Uint8Array): Promise<Uploaded>;
  /** Sends a quick reply's picture (after its text). */
  sendReplyPicture(conversationId: number, replyId: number): Promise<OutboxRow>;
  /** Opens the coordinates on a map in the OS browser. */
  openMap(latitude: number, longitude: number): Promise<void>;
  onConversationUpdated(f: (ids: number[]) => void): Promise<() => void>;
  onOutboxChanged(f: (id: string) => void): Promise<() => void>;
  onLinkChanged(f: (s: LinkState) => void): Promise<() => void>;
  /** Uploads a file to the relay and sends it (image, video, audio by URL; others as a link). */
  sendAttachment(conversationId: number, fileName: string, bytes: Uint8Array, durationMs?: number): Promise<OutboxRow>;
  /** The preview of something this console uploaded. */
  fetchUpload(url: string): Promise<Media>;
  onUploadProgress(f: (p: UploadProgress) => void): Promise<() => void>;
  /** Saves a customer's file into Downloads; answers the saved path. */
  downloadMedia(channelId: string, messageId: string, fileName: string): Promise<string>;
  onDownloadProgress(f: (p: DownloadProgress) => void): Promise<() => void>;
  setPresence(presence: Presence): Promise<AgentSnapshot>;
  /** Saves a contact's export (JSON with messages and media) into Downloads; answers the path. */
  exportContact(contactId: number): Promise<string>;
  /** Saves a CSV the console made (a report) into Downloads; answers the path. */
  saveCsv(fileName: string, text: string): Promise<string>;
  /** Saves relay conversation `episodeId` of a chat as a printable HTML transcript into
   * Downloads, worded by `text`, times in `timeZone`; answers the path. */
  exportTranscript(conversationId: number, episodeId: string, text: TranscriptText, timeZone: string): Promise<string>;
  act(id: string, action: RoutingAction, body?: Record<string, string>): Promise<CommandAnswer>;
  /** Has the relay send `text` in relay conversation `id` at `at` (UTC ms), by push. */
  sendLater(id: string, text: string, at: number): Promise<LaterMessage>;
  /** The "send later" messages waiting in relay conversation `id`. */
  listLater(id: string): Promise<LaterMessage[]>;
  cancelLater(id: string, later: string): Promise<void>;
  /** What the customer of relay conversation `id` sees: LINE's loading animation (`typing`)
   * or their messages marked `read`; whether LINE was told. */
  signal(id: string, action: "typing" | "read"): Promise<boolean>;
  listAgents(): Promise<AgentSnapshot[]>;
  listEpisodes(conversationId: number): Promise<ConversationSnapshot[]>;
  onAgentsChanged(f: () => void): Promise<() => void>;
  /** Supervisors: conversations that waited past their queue's target (news only). */
  onSlaBreach(f: (breaches: Breach[]) => void): Promise<() => void>;
  /** A reminder of this user came due, in the cache's conversation given. */
  onReminder(f: (conversationId: number) => void): Promise<() => void>;
  /** A click on an OS notification asks to open this conversation. */
  onOpenConversation(f: (id: number) => void): Promise<() => void>;
}

export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { message?: unknown }).message === "string" &&
    Array.isArray((e as { invalid?: unknown }).invalid)
  );
}
