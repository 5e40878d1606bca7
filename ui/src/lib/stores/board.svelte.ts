// The supervisor's floor: today's figures by queue and by representative (from the relay's
// reports), and the service-level alerts the relay raised while this console was open. The
// live part (who waits, who holds what) comes from the conversations and agents stores.
import type { Backend, Breach, Report } from "../ipc/types";
import { Reads } from "./reads";

/** Today as `YYYY-MM-DD` in this computer's zone. */
export function today(now = Date.now()): string {
  const d = new Date(now);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

export class BoardStore {
  byQueue = $state<Report | null>(null);
  byAgent = $state<Report | null>(null);
  /** Alerts not dismissed yet, newest first. */
  alerts = $state<Breach[]>([]);

  private reads = new Reads();

  constructor(private backend: Backend) {}

  /** Reads today's figures again (they change as the day goes on). */
  async refresh() {
    const read = this.reads.start();
    const day = today();
    const [byQueue, byAgent] = await Promise.all([
      this.backend.getReport({ from: day, to: day, by: "queue" }),
      this.backend.getReport({ from: day, to: day, by: "agent" }),
    ]);
    if (read.newest()) {
      this.byQueue = byQueue;
      this.byAgent = byAgent;
    }
  }

  /** The relay says these conversations waited past their target. */
  alert(breaches: Breach[]) {
    const fresh = breaches.filter((b) => !this.alerts.some((a) => a.conversationId === b.conversationId && a.at === b.at));
    this.alerts = [...fresh, ...this.alerts].slice(0, 20);
  }

  dismiss(b: Breach) {
    this.alerts = this.alerts.filter((a) => a !== b);
  }
}
