// Quick replies: the team's and the user's own, from the relay (the shell keeps the last list
// for offline use); adding, changing and removing them through the relay's typed API.
import type { Backend, QuickReply, QuickReplyInput } from "../ipc/types";
import type { SessionStore } from "./session.svelte";

export class RepliesStore {
  list = $state<QuickReply[]>([]);

  constructor(
    private backend: Backend,
    private session: SessionStore,
  ) {}

  async load() {
    try {
      this.list = await this.backend.listQuickReplies();
    } catch (e) {
      this.session.fail(e);
    }
  }

  /** Adds a reply; throws the relay's refusal (each wrong field named). */
  async add(reply: QuickReplyInput) {
    await this.backend.addQuickReply({ reply });
    await this.load();
  }

  /** Changes a reply; throws the relay's refusal. */
  async update(id: number, reply: QuickReplyInput) {
    await this.backend.updateQuickReply({ id, reply });
    await this.load();
  }

  async remove(id: number) {
    await this.backend.removeQuickReply({ id });
    await this.load();
  }

  /** Whether the user may change `r` (the team's: supervisors and admins). */
  mayChange(r: QuickReply): boolean {
    return r.team ? this.session.supervises : r.owner === this.session.me;
  }
}
