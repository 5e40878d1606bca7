// The routing side of the console: offers to me and the pick queue, my conversations, the
// colleagues' presence and load, and the routing commands (accept, transfer, end...).
import type { AgentSnapshot, Backend, Conversation, Presence, RoutingAction, Warning } from "../ipc/types";
import type { ConversationsStore } from "./conversations.svelte";
import type { SessionStore } from "./session.svelte";
import type { ThreadStore } from "./thread.svelte";

/** The states in which a conversation is someone's work. */
const OWNED = ["active", "waiting", "wrap_up"];

export class RequestsStore {
  agents = $state<AgentSnapshot[]>([]);
  /** Ticks every second while an offer is open: countdowns and waiting times. */
  now = $state(Date.now());
  /** What the relay said about the last command that worked but needs a word (e.g. outside hours). */
  warning = $state<Warning | null>(null);

  readonly myAgent: AgentSnapshot | null;
  /** Offers to me (push) and the pick queue (anyone may take), oldest first. */
  readonly requests: Conversation[];
  /** My conversations: active, waiting for the customer, in wrap-up. */
  readonly mine: Conversation[];
  /** Everything else the cache holds: others' and closed conversations, and unrouted ones. */
  readonly others: Conversation[];

  private ticking: ReturnType<typeof setInterval> | undefined;

  constructor(
    private backend: Backend,
    private session: SessionStore,
    private conversations: ConversationsStore,
    private thread: ThreadStore,
  ) {
    this.myAgent = $derived(this.agents.find((a) => a.user === this.session.me) ?? null);
    this.requests = $derived(
      this.conversations.list
        .filter((c) => {
          const r = c.routing;
          if (!r || r.state !== "open") return false;
          return r.offer ? r.offer.to === this.session.me && r.offer.expiresAt > this.now : r.mode === "pick";
        })
        .sort((a, b) => (a.routing?.lastCustomerAt ?? 0) - (b.routing?.lastCustomerAt ?? 0)),
    );
    this.mine = $derived(this.conversations.list.filter((c) => c.routing?.owner === this.session.me && OWNED.includes(c.routing.state)));
    this.others = $derived(this.conversations.list.filter((c) => !this.requests.includes(c) && !this.mine.includes(c)));
  }

  /** Starts the clock of countdowns; an idle console (no open offer) does no work at all. */
  startClock() {
    clearInterval(this.ticking);
    this.ticking = setInterval(() => {
      if (this.conversations.list.some((c) => c.routing?.state === "open")) this.now = Date.now();
    }, 1000);
  }

  async refreshAgents() {
    try {
      this.agents = await this.backend.listAgents();
    } catch (e) {
      this.session.fail(e);
    }
  }

  async setPresence(p: Presence) {
    try {
      const me = await this.backend.setPresence(p);
      this.agents = [...this.agents.filter((a) => a.user !== me.user), me];
    } catch (e) {
      this.session.fail(e);
    }
  }

  /** A routing command on a conversation of the list; opens it after an accept. */
  async act(c: Conversation, action: RoutingAction, body?: Record<string, string>): Promise<boolean> {
    if (!c.routing) return false;
    this.warning = null;
    try {
      const answer = await this.backend.act(c.routing.id, action, body);
      this.conversations.update(c.id, { routing: answer.conversation });
      this.warning = answer.warning ?? null;
      if (action === "accept") await this.thread.select(c.id);
      await this.conversations.refresh();
      return true;
    } catch (e) {
      this.session.fail(e);
      await this.conversations.refresh();
      return false;
    }
  }
}
