// The reports screen's state: the range and grouping asked for, the report the relay
// answered, and the names its keys stand for.
import type { Backend, Report, ReportGroup } from "../ipc/types";
import { csv } from "../reports/figures";
import { Reads } from "./reads";

/** `YYYY-MM-DD` of `ms` in the computer's zone (the range's default: the last seven days). */
function isoDay(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

export class ReportsStore {
  from = $state(isoDay(Date.now() - 6 * 86_400_000));
  to = $state(isoDay(Date.now()));
  by = $state<ReportGroup>("day");
  report = $state<Report | null>(null);
  loading = $state(false);
  /** Queue and channel names by id, for the rows' keys. */
  names = $state<Record<string, string>>({});

  private reads = new Reads();

  constructor(private backend: Backend) {}

  /** Asks the relay for the report as set; throws its refusal (a field and why). */
  async load() {
    this.loading = true;
    const read = this.reads.start();
    try {
      const report = await this.backend.getReport({ from: this.from, to: this.to, by: this.by });
      if (read.newest()) this.report = report;
    } finally {
      this.loading = false;
    }
  }

  /** Reads the queue and channel names once (unknown ones show as their ids). */
  async loadNames() {
    const [queues, channels] = await Promise.all([
      this.backend.listQueues({}).catch(() => []),
      this.backend.listChannels({}).catch(() => []),
    ]);
    this.names = Object.fromEntries([...channels.map((c) => [c.id, c.name]), ...queues.map((q) => [q.id, q.queue.name])]);
  }

  /** Saves the report shown as CSV into Downloads; answers the path. */
  async exportCsv(): Promise<string | null> {
    const r = this.report;
    if (!r) return null;
    return this.backend.saveCsv(`linedesk-report-${r.group}-${r.from}-${r.to}.csv`, csv(r, this.names));
  }
}
