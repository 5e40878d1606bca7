// The console's state: session, connection, conversation list, the open conversation.
import type { AppInfo, Backend, Conversation, IpcError, LinkState, Message, SearchHit } from "../ipc/types";
import { isIpcError } from "../ipc/types";

export class AppStore {
  info = $state<AppInfo | null>(null);
  link = $state<LinkState>({ state: "signed_out" });
  conversations = $state<Conversation[]>([]);
  selectedId = $state<number | null>(null);
  messages = $state<Message[]>([]);
  loadingMessages = $state(false);
  error = $state<IpcError | null>(null);
  drafts = $state<Record<number, string>>({});

  selected = $derived(this.conversations.find((c) => c.id === this.selectedId) ?? null);
  signedIn = $derived(this.link.state !== "signed_out" && this.link.state !== "refused");

  constructor(private backend: Backend) {}

  async init() {
    this.info = await this.backend.appInfo();
    this.link = await this.backend.linkState();
    await this.backend.onLinkChanged((s) => {
      this.link = s;
      if (s.state === "online") void this.refresh();
    });
    await this.backend.onConversationUpdated((ids) => void this.onUpdated(ids));
    await this.backend.onOutboxChanged(() => void this.reloadMessages());
    await this.backend.onOpenConversation((id) => void this.select(id));
    if (this.signedIn) await this.refresh();
  }

  private fail(e: unknown) {
    this.error = isIpcError(e) ? e : { code: "internal", message: String(e) };
  }

  async signIn(relayUrl: string, user: string, password: string): Promise<boolean> {
    this.error = null;
    try {
      await this.backend.signIn(relayUrl, user, password);
      this.info = await this.backend.appInfo();
      this.link = await this.backend.linkState();
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
      this.conversations = await this.backend.listConversations();
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

  async select(id: number) {
    this.selectedId = id;
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
      const list = await this.backend.getMessages(id);
      if (this.selectedId === id) this.messages = list;
    } catch (e) {
      this.fail(e);
    }
  }

  async send(text: string): Promise<boolean> {
    if (this.selectedId === null) return false;
    try {
      await this.backend.sendText(this.selectedId, text);
      this.drafts[this.selectedId] = "";
      await this.reloadMessages();
      return true;
    } catch (e) {
      this.fail(e);
      return false;
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
