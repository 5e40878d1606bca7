// The open conversation: its messages, the draft and quote of each conversation, uploads.
import type { Backend, Conversation, ConversationSnapshot, Message, UploadProgress } from "../ipc/types";
import { timeZone, transcriptText } from "../transcript";
import type { ConversationsStore } from "./conversations.svelte";
import { Reads } from "./reads";
import type { SessionStore } from "./session.svelte";

export class ThreadStore {
  selectedId = $state<number | null>(null);
  messages = $state<Message[]>([]);
  loading = $state(false);
  drafts = $state<Record<number, string>>({});
  /** The message being quoted, per conversation. */
  quoting = $state<Record<number, Message | null>>({});
  /** Whether representatives may send files, by channel (the workstream's setting). */
  attachAllowed = $state<Record<string, boolean>>({});
  /** Uploads under way, by conversation. */
  uploads = $state<Record<number, UploadProgress>>({});
  /** Where the last transcript of the open conversation was saved. */
  saved = $state<string | null>(null);
  /** A transcript is being made. */
  exporting = $state(false);

  /** The open conversation as the list has it. */
  readonly selected: Conversation | null;

  /** Message reads, so a slow older answer never replaces a newer one. */
  private reads = new Reads();

  constructor(
    private backend: Backend,
    private session: SessionStore,
    private conversations: ConversationsStore,
  ) {
    this.selected = $derived(this.selectedId === null ? null : this.conversations.byId(this.selectedId));
  }

  /** Reads the channel's workstream once: the composer disables Attach when it forbids files. */
  private async loadWorkstream(channel: string) {
    if (channel in this.attachAllowed) return;
    try {
      const ws = await this.backend.getWorkstream({ channelId: channel });
      this.attachAllowed[channel] = ws.attachments.representativesCanSend;
    } catch {
      // Unknown (offline): allow; the relay refuses if it must.
    }
  }

  async select(id: number) {
    this.selectedId = id;
    this.saved = null;
    const channel = this.conversations.byId(id)?.channel_id;
    if (channel) void this.loadWorkstream(channel);
    this.loading = true;
    this.messages = [];
    await this.reload();
    this.loading = false;
    await this.backend.markRead(id);
    const c = this.conversations.byId(id);
    if (c) c.unread = 0;
  }

  /** Closes the open conversation (at sign-out). */
  clear() {
    this.selectedId = null;
    this.messages = [];
  }

  /** The conversations `ids` changed (all when empty): the open one is read again. */
  async updated(ids: number[]) {
    const open = this.selectedId;
    if (open === null || (ids.length > 0 && !ids.includes(open))) return;
    // The open conversation is being read: clear its count before the list is redrawn.
    await this.backend.markRead(open);
    await this.reload();
  }

  async reload() {
    const id = this.selectedId;
    if (id === null) return;
    try {
      const read = this.reads.start();
      const list = await this.backend.getMessages(id);
      if (this.selectedId === id && read.newest()) this.messages = list;
    } catch (e) {
      this.session.fail(e);
    }
  }

  async send(text: string): Promise<boolean> {
    const id = this.selectedId;
    if (id === null) return false;
    try {
      const quote = this.quoting[id];
      const token = quote ? quoteToken(quote) : undefined;
      await this.backend.sendText(id, text, token);
      this.drafts[id] = "";
      this.quoting[id] = null;
      await this.reload();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    }
  }

  /** Sends a file: the relay hosts it for LINE; documents go out as a link. */
  async sendFile(file: File): Promise<boolean> {
    const id = this.selectedId;
    if (id === null) return false;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const duration = file.type.startsWith("audio/") ? await audioDuration(file) : undefined;
      this.uploads[id] = { conversationId: id, fileName: file.name, sent: 0, total: bytes.length };
      await this.backend.sendAttachment(id, file.name, bytes, duration);
      await this.reload();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    } finally {
      delete this.uploads[id];
    }
  }

  /** Saves relay conversation `episode` of the open chat as a printable HTML transcript into
   * Downloads; answers the path (also kept in `saved`), or null after a failure. */
  async exportTranscript(episode: ConversationSnapshot): Promise<string | null> {
    const c = this.selected;
    if (!c) return null;
    this.exporting = true;
    try {
      const text = transcriptText(c, episode, this.session.me);
      const path = await this.backend.exportTranscript(c.id, episode.id, text, timeZone());
      if (this.selectedId === c.id) this.saved = path;
      return path;
    } catch (e) {
      this.session.fail(e);
      return null;
    } finally {
      this.exporting = false;
    }
  }

  async retry(outboxId: string) {
    try {
      await this.backend.retrySend(outboxId);
      await this.reload();
    } catch (e) {
      this.session.fail(e);
    }
  }
}

/** The quote token LINE gave a message (kept in its stored body), if any. */
function quoteToken(m: Message): string | undefined {
  try {
    const body: unknown = JSON.parse(m.body);
    const token = typeof body === "object" && body !== null ? (body as { quoteToken?: unknown }).quoteToken : undefined;
    return typeof token === "string" ? token : undefined;
  } catch {
    return undefined;
  }
}

/** An audio file's length in ms (LINE's audio message needs it), read by the webview. */
function audioDuration(file: File): Promise<number | undefined> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const audio = new Audio();
    const done = (v: number | undefined) => {
      URL.revokeObjectURL(url);
      resolve(v);
    };
    audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) ? audio.duration * 1000 : undefined);
    audio.onerror = () => done(undefined);
    setTimeout(() => done(undefined), 3000);
    audio.src = url;
  });
}
