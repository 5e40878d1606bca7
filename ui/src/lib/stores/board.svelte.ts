// The supervisor's floor: today's figures by queue and by representative (from the relay's
// reports), and the service-level alerts the relay raised while this console was open. The
// live part (who waits, who holds what) comes from the conversations and agents stores.
import type { Backend, Breach, Report } from "../ipc/types";
import { Reads } from "./reads";

/** Today as `YYYY-MM-DD` in `zone` (an IANA name; this computer's zone when not given). */
export function today(now = Date.now(), zone?: string): string {
  // From the parts, not a locale's pattern (which differs between ICU versions).
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

export class BoardStore {
  byQueue = $state<Report | null>(null);
  byAgent = $state<Report | null>(null);
  /** Alerts not dismissed yet, newest first. */
  alerts = $state<Breach[]>([]);
  /** The relay's report time zone, once a report said it: "today" is today there. */
  private zone: string | undefined;

  private reads = new Reads();

  constructor(private backend: Backend) {}

  /** Reads today's figures again (they change as the day goes on). */
  async refresh(): Promise<void> {
    const read = this.reads.start();
    const day = today(Date.now(), this.zone);
    const [byQueue, byAgent] = await Promise.all([
      this.backend.getReport({ from: day, to: day, by: "queue" }),
      this.backend.getReport({ from: day, to: day, by: "agent" }),
    ]);
    if (!read.newest()) return;
    const known = this.zone !== undefined;
    this.zone = byQueue.timeZone;
    // The first answer names the relay's zone; if today is another day there, ask again.
    if (!known && today(Date.now(), this.zone) !== day) return this.refresh();
    this.byQueue = byQueue;
    this.byAgent = byAgent;
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
