// The cached conversation list and search over the cached messages.
import type { Backend, Conversation, SearchHit } from "../ipc/types";
import { Reads } from "./reads";
import type { SessionStore } from "./session.svelte";

export class ConversationsStore {
  /** Replaced whole, never changed in place: a deep `$state` would wrap each of thousands of
   * conversations in a proxy with a signal per field, most of the window's script heap. */
  list = $state.raw<Conversation[]>([]);

  /** List reads, so a slow older answer never replaces a newer one. */
  private reads = new Reads();

  constructor(
    private backend: Backend,
    private session: SessionStore,
  ) {}

  byId(id: number): Conversation | null {
    return this.list.find((c) => c.id === id) ?? null;
  }

  /** Changes one conversation until the next refresh brings the cache's own copy. */
  update(id: number, change: Partial<Conversation>) {
    this.list = this.list.map((c) => (c.id === id ? { ...c, ...change } : c));
  }

  async refresh() {
    try {
      const read = this.reads.start();
      const list = await this.backend.listConversations();
      if (read.newest()) this.list = list;
    } catch (e) {
      this.session.fail(e);
    }
  }

  async search(q: string): Promise<SearchHit[]> {
    if (!q.trim()) return [];
    try {
      return await this.backend.search(q);
    } catch (e) {
      this.session.fail(e);
      return [];
    }
  }
}
