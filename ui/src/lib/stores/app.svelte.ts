// The console's state: session, connection, conversation list, the open conversation.
import type {
  AgentSnapshot, AppInfo, Backend, Conversation, IpcError, LinkState, Message, Presence, RoutingAction, SearchHit,
  UploadProgress,
} from "../ipc/types";
import { isIpcError } from "../ipc/types";

/** Numbers reads that may answer out of order; only an answer newer than the last shown counts. */
class Reads {
  private asked = 0;
  private shown = 0;

  start() {
    const n = ++this.asked;
    return {
      /** Whether this answer is newer than any shown so far (and marks it shown). */
      newest: () => {
        if (n <= this.shown) return false;
        this.shown = n;
        return true;
      },
    };
  }
}

export class AppStore {
  info = $state<AppInfo | null>(null);
  link = $state<LinkState>({ state: "signed_out" });
  conversations = $state<Conversation[]>([]);
  selectedId = $state<number | null>(null);
  messages = $state<Message[]>([]);
  loadingMessages = $state(false);
  error = $state<IpcError | null>(null);
  drafts = $state<Record<number, string>>({});
  /** The message being quoted, per conversation. */
  quoting = $state<Record<number, Message | null>>({});

  agents = $state<AgentSnapshot[]>([]);
  /** Ticks every second while signed in: countdowns and waiting times. */
  now = $state(Date.now());
  warning = $state<string | null>(null);
  /** Whether representatives may send files, by channel (the workstream's setting). */
  attachAllowed = $state<Record<string, boolean>>({});
  /** Uploads under way, by conversation. */
  uploads = $state<Record<number, UploadProgress>>({});

  selected = $derived(this.conversations.find((c) => c.id === this.selectedId) ?? null);
  signedIn = $derived(this.link.state !== "signed_out" && this.link.state !== "refused");
  me = $derived(this.info?.user ?? null);
  myAgent = $derived(this.agents.find((a) => a.user === this.me) ?? null);
  /** Offers to me (push) and the pick queue (anyone may take), oldest first. */
  requests = $derived(
    this.conversations
      .filter((c) => {
        const r = c.routing;
        if (!r || r.state !== "open") return false;
        return r.offer ? r.offer.to === this.me && r.offer.expiresAt > this.now : r.mode === "pick";
      })
      .sort((a, b) => (a.routing?.lastCustomerAt ?? 0) - (b.routing?.lastCustomerAt ?? 0)),
  );
  mine = $derived(
    this.conversations.filter((c) => c.routing?.owner === this.me && ["active", "waiting", "wrap_up"].includes(c.routing.state)),
  );
  /** Everything else the cache holds: others' and closed conversations, and unrouted ones. */
  others = $derived(this.conversations.filter((c) => !this.requests.includes(c) && !this.mine.includes(c)));

  /** Counts link-changed events, so an older read never overwrites a newer event. */
  private linkSeq = 0;
  /** List and message reads, so a slow older answer never replaces a newer one. */
  private listReads = new Reads();
  private messageReads = new Reads();

  constructor(private backend: Backend) {}

  /** Reads the link state, unless an event reported a newer one while the read was under way. */
  private async readLink() {
    const seq = this.linkSeq;
    const state = await this.backend.linkState();
    if (seq === this.linkSeq) this.link = state;
  }

  async init() {
    // Listen first, then read: a change between the two is never missed, and a read that
    // answers after a newer event does not overwrite it.
    await this.backend.onLinkChanged((s) => {
      this.linkSeq += 1;
      this.link = s;
      if (s.state === "online") void this.refresh();
    });
    this.info = await this.backend.appInfo();
    await this.readLink();
    await this.backend.onConversationUpdated((ids) => void this.onUpdated(ids));
    await this.backend.onOutboxChanged(() => void this.reloadMessages());
    await this.backend.onOpenConversation((id) => void this.select(id));
    await this.backend.onAgentsChanged(() => void this.refreshAgents());
    await this.backend.onUploadProgress((p) => (this.uploads[p.conversationId] = p));
    // Countdowns and waiting times need a clock only while an offer is open; an idle console
    // does no work at all.
    setInterval(() => {
      if (this.conversations.some((c) => c.routing?.state === "open")) this.now = Date.now();
    }, 1000);
    if (this.signedIn) await this.refresh();
  }

  async refreshAgents() {
    try {
      this.agents = await this.backend.listAgents();
    } catch (e) {
      this.fail(e);
    }
  }

  async setPresence(p: Presence) {
    try {
      const me = await this.backend.setPresence(p);
      this.agents = [...this.agents.filter((a) => a.user !== me.user), me];
    } catch (e) {
      this.fail(e);
    }
  }

  /** A routing command on a conversation of the list; opens it after an accept. */
  async act(c: Conversation, action: RoutingAction, body?: Record<string, string>): Promise<boolean> {
    if (!c.routing) return false;
    this.warning = null;
    try {
      const answer = await this.backend.act(c.routing.id, action, body);
      c.routing = answer.conversation;
      this.warning = answer.warning ?? null;
      if (action === "accept") await this.select(c.id);
      await this.refresh();
      return true;
    } catch (e) {
      this.fail(e);
      await this.refresh();
      return false;
    }
  }

  private fail(e: unknown) {
    this.error = isIpcError(e) ? e : { code: "internal", message: String(e), invalid: [] };
  }

  async signIn(relayUrl: string, user: string, password: string): Promise<boolean> {
    this.error = null;
    try {
      await this.backend.signIn(relayUrl, user, password);
      this.info = await this.backend.appInfo();
      await this.readLink();
      if (this.link.state === "signed_out") this.link = { state: "connecting", attempt: 1 };
      await this.refresh();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  async signOut() {
    await this.backend.signOut();
    this.selectedId = null;
    this.messages = [];
    this.info = await this.backend.appInfo();
  }

  async refresh() {
    try {
      if (this.agents.length === 0) void this.refreshAgents();
      // Reads can answer out of order; an older read never replaces a newer one.
      const read = this.listReads.start();
      const list = await this.backend.listConversations();
      if (read.newest()) this.conversations = list;
    } catch (e) {
      this.fail(e);
    }
  }

  private async onUpdated(ids: number[]) {
    const open = this.selectedId;
    if (open !== null && (ids.length === 0 || ids.includes(open))) {
      // The open conversation is being read: clear its count before the list is redrawn.
      await this.backend.markRead(open);
      await this.reloadMessages();
    }
    await this.refresh();
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
    const channel = this.conversations.find((c) => c.id === id)?.channel_id;
    if (channel) void this.loadWorkstream(channel);
    this.loadingMessages = true;
    this.messages = [];
    await this.reloadMessages();
    this.loadingMessages = false;
    await this.backend.markRead(id);
    const c = this.conversations.find((c) => c.id === id);
    if (c) c.unread = 0;
  }

  async reloadMessages() {
    const id = this.selectedId;
    if (id === null) return;
    try {
      const read = this.messageReads.start();
      const list = await this.backend.getMessages(id);
      if (this.selectedId === id && read.newest()) this.messages = list;
    } catch (e) {
      this.fail(e);
    }
  }

  async send(text: string): Promise<boolean> {
    if (this.selectedId === null) return false;
    try {
      const quote = this.quoting[this.selectedId];
      const token = quote ? (JSON.parse(quote.body) as { quoteToken?: string }).quoteToken : undefined;
      await this.backend.sendText(this.selectedId, text, token);
      this.drafts[this.selectedId] = "";
      this.quoting[this.selectedId] = null;
      await this.reloadMessages();
      return true;
    } catch (e) {
      this.fail(e);
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
      await this.reloadMessages();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    } finally {
      delete this.uploads[id];
    }
  }

  async retry(outboxId: string) {
    try {
      await this.backend.retrySend(outboxId);
      await this.reloadMessages();
    } catch (e) {
      this.fail(e);
    }
  }

  async search(q: string): Promise<SearchHit[]> {
    if (!q.trim()) return [];
    try {
      return await this.backend.search(q);
    } catch (e) {
      this.fail(e);
      return [];
    }
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
