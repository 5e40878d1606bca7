// The open conversation: its messages, the draft and quote of each conversation, uploads.
import type { Backend, ChannelQuota, Conversation, ConversationSnapshot, LaterMessage, Message, QuickReply, Reminder, Suggestion, UploadProgress, Viewer } from "../ipc/types";
import { timeZone, transcriptText } from "../transcript";
import type { ConversationsStore } from "./conversations.svelte";
import { Reads } from "./reads";
import type { SessionStore } from "./session.svelte";

/** At most one typing signal this often (the animation lasts 20 s; the relay allows one per 10 s). */
export const TYPING_EVERY_MS = 10_000;

/** How often a console says it has the conversation open (collision). */
const VIEWING_EVERY_MS = 5_000;
/** How long the typing pauses before a draft is written to the cache. */
export const DRAFT_PAUSE_MS = 300;

export class ThreadStore {
  selectedId = $state<number | null>(null);
  /** Replaced whole on each load (raw: no proxy per message of a long conversation). */
  messages = $state.raw<Message[]>([]);
  loading = $state(false);
  drafts = $state<Record<number, string>>({});
  /** The message being quoted, per conversation. */
  quoting = $state<Record<number, Message | null>>({});
  /** Whether representatives may send files, by channel (the workstream's setting). */
  attachAllowed = $state<Record<string, boolean>>({});
  /** Uploads under way, by conversation. */
  uploads = $state<Record<number, UploadProgress>>({});
  /** Messages of the open conversation the relay sends later. */
  later = $state<LaterMessage[]>([]);
  /** The user's reminders still to come ("remind me"), every conversation's. */
  reminders = $state<Reminder[]>([]);
  /** Past answers of the team to questions like the customer's newest one. */
  suggestions = $state<Suggestion[]>([]);
  /** The first message the representative had not read when the conversation was opened. */
  unreadFrom = $state<number | null>(null);
  /** Where the last transcript of the open conversation was saved. */
  saved = $state<string | null>(null);
  /** A transcript is being made. */
  exporting = $state(false);

  /** The open conversation as the list has it. */
  readonly selected: Conversation | null;

  /** When LINE was last asked to show the customer the loading animation. */
  private typingAt = 0;
  /** Who else has the open conversation open, and who types in it (collision). */
  others = $state<Viewer[]>([]);
  private viewingTimer: ReturnType<typeof setInterval> | null = null;
  /** When this user last typed in the open conversation, and last said so to the relay. */
  private typedAt = 0;
  private typingSaidAt = 0;
  /** The last draft save of each conversation (the next one waits for it). */
  private draftSaves = new Map<number, Promise<void>>();
  /** Draft saves waiting for a pause in the typing, by conversation. */
  private draftTimers = new Map<number, ReturnType<typeof setTimeout>>();

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
  /** Each channel's messages this month against its limit, as LINE last reported them. */
  quota = $state<Record<string, ChannelQuota>>({});
  private quotaReadAt: Record<string, number> = {};

  /** Reads a channel's quota, at most every few minutes (the relay refreshes it every 15). */
  private async loadQuota(channel: string) {
    if (Date.now() - (this.quotaReadAt[channel] ?? 0) < 5 * 60_000) return;
    this.quotaReadAt[channel] = Date.now();
    try {
      this.quota[channel] = await this.backend.getChannelQuota({ channelId: channel });
    } catch {
      delete this.quotaReadAt[channel];
    }
  }

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
    this.unreadFrom = null;
    const channel = this.conversations.byId(id)?.channel_id;
    if (channel) {
      void this.loadWorkstream(channel);
      void this.loadQuota(channel);
    }
    this.loading = true;
    this.messages = [];
    const unread = this.conversations.byId(id)?.unread ?? 0;
    await this.reload();
    this.loading = false;
    // Where the customer's unread part began: the first of the last `unread` of their messages.
    if (unread > 0) {
      const theirs = this.messages.filter((m) => m.direction === "in");
      this.unreadFrom = theirs[Math.max(0, theirs.length - unread)]?.id ?? null;
    }
    await this.backend.markRead(id);
    this.conversations.update(id, { unread: 0 });
    this.markReadOnLine();
    void this.suggest();
    void this.loadLater();
    void this.loadReminders();
    this.startViewing();
  }

  /** Says every few seconds that the open conversation is open here, and reads who else has it. */
  private startViewing() {
    if (this.viewingTimer) clearInterval(this.viewingTimer);
    this.others = [];
    void this.sayViewing();
    this.viewingTimer = setInterval(() => void this.sayViewing(), VIEWING_EVERY_MS);
  }

  private async sayViewing() {
    const r = this.selected?.routing;
    if (!r || r.state === "closed") {
      this.others = [];
      return;
    }
    const typing = Date.now() - this.typedAt < VIEWING_EVERY_MS;
    if (typing) this.typingSaidAt = Date.now();
    try {
      const others = await this.backend.viewing({ conversationId: r.id, viewing: { typing } });
      if (this.selected?.routing?.id === r.id) this.others = others;
    } catch {
      // Offline or signed out: nobody to show.
      this.others = [];
    }
  }

  /** The user types in the open conversation (the composer or the note box): said at once,
   * then with each beat while it lasts. */
  typingHere() {
    this.typedAt = Date.now();
    if (this.typedAt - this.typingSaidAt > VIEWING_EVERY_MS) void this.sayViewing();
  }

  /** The open conversation's reminder still to come, if the user set one. */
  get reminder(): Reminder | null {
    const r = this.selected?.routing;
    return r ? (this.reminders.find((x) => x.conversationId === r.id) ?? null) : null;
  }

  /** Reads the user's reminders still to come. */
  async loadReminders() {
    try {
      this.reminders = await this.backend.listReminders({});
    } catch {
      // Offline or signed out: the banner waits for the next read.
    }
  }

  /** "Remind me": sets the open conversation aside until `at` (UTC ms) with a note. */
  async remind(at: number, note: string): Promise<boolean> {
    const r = this.selected?.routing;
    if (!r) return false;
    try {
      await this.backend.setReminder({ conversationId: r.id, reminder: { at, note } });
      await this.loadReminders();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    }
  }

  async cancelReminder(id: string) {
    try {
      await this.backend.cancelReminder({ id });
    } catch (e) {
      this.session.fail(e);
    }
    await this.loadReminders();
  }

  /** Reads what waits to be sent later in the open conversation (its writers only). */
  async loadLater() {
    const w = this.writing();
    if (!w) {
      this.later = [];
      return;
    }
    try {
      const list = await this.backend.listLater(w.id);
      if (this.writing()?.id === w.id) this.later = list;
    } catch (e) {
      this.session.fail(e);
    }
  }

  /** Has the relay send `text` at `at` (UTC ms); true when it is queued. */
  async sendLater(text: string, at: number): Promise<boolean> {
    const w = this.writing();
    if (!w) return false;
    try {
      await this.backend.sendLater(w.id, text, at);
      await this.loadLater();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    }
  }

  async cancelLater(later: string) {
    const w = this.writing();
    if (!w) return;
    try {
      await this.backend.cancelLater(w.id, later);
    } catch (e) {
      this.session.fail(e);
    }
    await this.loadLater();
  }

  /** Reads the suggestions for the open conversation, when its owner is answering it. */
  async suggest() {
    const id = this.selectedId;
    if (id === null || !this.writing()) {
      this.suggestions = [];
      return;
    }
    try {
      const found = await this.backend.suggestAnswers(id);
      if (this.selectedId === id) this.suggestions = found;
    } catch {
      // A suggestion is a help, not a need: none then.
      this.suggestions = [];
    }
  }

  /** Who is signed in may write in the open conversation now (so the customer may see it). */
  private writing(): { id: string; chatId: string } | null {
    const r = this.selected?.routing;
    const me = this.session.me;
    if (!r || !me || (r.state !== "active" && r.state !== "waiting")) return null;
    const mine = r.owner === me || r.consultants.some((c) => c.user === me && c.joined);
    return mine ? { id: r.id, chatId: r.chatId } : null;
  }

  /** The customer sees their messages read, as in LINE's app (the relay asks LINE when the
   * channel allows it). A supervisor monitoring is not seen. */
  markReadOnLine() {
    const w = this.writing();
    if (w) this.backend.signal(w.id, "read").catch(() => {});
  }

  /** The representative types: the customer sees LINE's loading animation (one-to-one chats
   * only; at most every few seconds, the relay limits it too). */
  typing() {
    this.typingHere();
    const w = this.writing();
    const now = Date.now();
    if (!w || !w.chatId.startsWith("U") || now - this.typingAt < TYPING_EVERY_MS) return;
    this.typingAt = now;
    this.backend.signal(w.id, "typing").catch(() => {});
  }

  /** Reads the drafts kept in the cache (after a restart, or a crash). What was typed since
   * the console started wins over what the cache had. */
  async loadDrafts() {
    try {
      for (const d of await this.backend.listDrafts()) {
        if (!(d.conversation_id in this.drafts)) this.drafts[d.conversation_id] = d.text;
      }
    } catch (e) {
      this.session.fail(e);
    }
  }

  /** The composer's text of conversation `id`: kept in the cache after a short pause in the
   * typing (at once when `now`), so it outlives a restart or a crash. */
  setDraft(id: number, text: string, now = false) {
    this.drafts[id] = text;
    clearTimeout(this.draftTimers.get(id));
    this.draftTimers.delete(id);
    const save = () => {
      this.draftTimers.delete(id);
      // One after another: an older save never lands after a newer one (a sent message
      // coming back as the draft).
      const saved = (this.draftSaves.get(id) ?? Promise.resolve())
        .then(() => this.backend.saveDraft(id, text))
        .catch((e) => this.session.fail(e));
      this.draftSaves.set(id, saved);
    };
    if (now) save();
    else this.draftTimers.set(id, setTimeout(save, DRAFT_PAUSE_MS));
  }

  /** Closes the open conversation (at sign-out): drafts stay in the cache until it is cleared. */
  clear() {
    if (this.viewingTimer) clearInterval(this.viewingTimer);
    this.viewingTimer = null;
    this.others = [];
    for (const t of this.draftTimers.values()) clearTimeout(t);
    this.draftTimers.clear();
    this.drafts = {};
    this.suggestions = [];
    this.later = [];
    this.selectedId = null;
    this.messages = [];
  }

  /** The conversations `ids` changed (all when empty): the open one is read again. */
  async updated(ids: number[]) {
    const open = this.selectedId;
    if (open === null || (ids.length > 0 && !ids.includes(open))) return;
    // The open conversation is being read: clear its count before the list is redrawn.
    await this.backend.markRead(open);
    const before = this.messages.length;
    await this.reload();
    if (this.messages.length > before && this.messages.at(-1)?.direction === "in") this.markReadOnLine();
    if (this.messages.length !== before) {
      void this.suggest();
      void this.loadLater();
    }
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
      this.quoting[id] = null;
      await this.reload();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    }
  }

  /** The quick reply whose picture goes after the text being written, by conversation. */
  replyPicture = $state<Record<number, QuickReply | null>>({});

  /** Sends quick reply `replyId`'s picture in the open conversation. */
  async sendReplyPicture(replyId: number): Promise<boolean> {
    const id = this.selectedId;
    if (id === null) return false;
    try {
      await this.backend.sendReplyPicture(id, replyId);
      await this.reload();
      return true;
    } catch (e) {
      this.session.fail(e);
      return false;
    }
  }

  /** Sends a sticker of LINE's sendable list. */
  async sendSticker(packageId: string, stickerId: string): Promise<boolean> {
    const id = this.selectedId;
    if (id === null) return false;
    try {
      await this.backend.sendSticker(id, packageId, stickerId);
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
