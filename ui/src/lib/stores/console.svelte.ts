// The console's state, in small stores by concern, wired to the backend's events.
import { pictures } from "../ipc/pictures";
import type { Backend } from "../ipc/types";
import { AdminStore } from "./admin.svelte";
import { BoardStore } from "./board.svelte";
import { ContactsStore } from "./contacts.svelte";
import { ConversationsStore } from "./conversations.svelte";
import { RepliesStore } from "./replies.svelte";
import { ReportsStore } from "./reports.svelte";
import { RequestsStore } from "./requests.svelte";
import { SessionStore } from "./session.svelte";
import { ThreadStore } from "./thread.svelte";

export class Console {
  readonly session: SessionStore;
  readonly conversations: ConversationsStore;
  readonly thread: ThreadStore;
  readonly requests: RequestsStore;
  readonly admin: AdminStore;
  readonly contacts: ContactsStore;
  readonly reports: ReportsStore;
  readonly board: BoardStore;
  readonly replies: RepliesStore;

  constructor(private backend: Backend) {
    this.session = new SessionStore(backend);
    this.conversations = new ConversationsStore(backend, this.session);
    this.thread = new ThreadStore(backend, this.session, this.conversations);
    this.requests = new RequestsStore(backend, this.session, this.conversations, this.thread);
    this.admin = new AdminStore(backend, this.requests);
    this.contacts = new ContactsStore(backend);
    this.reports = new ReportsStore(backend);
    this.board = new BoardStore(backend);
    this.replies = new RepliesStore(backend, this.session);
  }

  async init() {
    await this.session.init(() => void this.refresh());
    await this.backend.onConversationUpdated((ids) => void this.updated(ids));
    await this.backend.onOutboxChanged(() => void this.thread.reload());
    await this.backend.onOpenConversation((id) => void this.thread.select(id));
    await this.backend.onAgentsChanged(() => void this.requests.refreshAgents());
    await this.backend.onUploadProgress((p) => (this.thread.uploads[p.conversationId] = p));
    await this.backend.onSlaBreach((b) => this.board.alert(b));
    await this.backend.onReminder(() => void this.thread.loadReminders());
    this.requests.startClock();
    if (this.session.signedIn) await this.refresh();
  }

  /** Reads the list (and the colleagues and the kept drafts, once). */
  async refresh() {
    if (this.requests.agents.length === 0) void this.requests.refreshAgents();
    if (!this.draftsRead) {
      this.draftsRead = true;
      void this.thread.loadDrafts();
      void this.replies.load();
    }
    await this.conversations.refresh();
  }

  /** The kept drafts were read since sign-in. */
  private draftsRead = false;

  /** Conversations changed while the last change was being read (`"all"`: every one), read
   * together once it is done: a burst of events (a catch-up after a reconnect, a busy chat)
   * costs two reads of the list, not one per event. */
  private changed: Set<number> | "all" | null = null;
  private updating = false;

  private async updated(ids: number[]) {
    this.changed = ids.length === 0 || this.changed === "all" ? "all" : new Set([...(this.changed ?? []), ...ids]);
    if (this.updating) return;
    this.updating = true;
    try {
      while (this.changed !== null) {
        const batch = this.changed === "all" ? [] : [...this.changed];
        this.changed = null;
        await this.thread.updated(batch);
        await this.conversations.refresh();
      }
    } finally {
      this.updating = false;
    }
  }

  async signIn(relayUrl: string, user: string, password: string): Promise<boolean> {
    if (!(await this.session.signIn(relayUrl, user, password))) return false;
    await this.refresh();
    return true;
  }

  async signOut() {
    await this.session.signOut();
    this.thread.clear();
    this.replies.list = [];
    pictures.clear();
    this.draftsRead = false;
  }
}
