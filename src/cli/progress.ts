// The progress line of sitempi run on a terminal (stderr).
/** The progress line on a terminal (stderr): ranks connected, records, records/s. */
export class Progress {
  private shown = false;
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  constructor(
    private readonly monitor: import('../monitor/monitor.js').Monitor,
    private readonly jobId: string,
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }
  private draw(): void {
    if (Date.now() - this.started < 2000) return; // long runs only
    const job = this.monitor.job(this.jobId);
    const s = job
      ? `[sitempi] ${job.ranksConnected}/${job.size} ranks connected, ${fmt(job.records)} records, ${fmt(job.rates().recordsPerSecond)} records/s, ${((Date.now() - this.started) / 1000).toFixed(0)}s`
      : `[sitempi] waiting for ranks, ${((Date.now() - this.started) / 1000).toFixed(0)}s`;
    process.stderr.write(`\r\x1b[K${s}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
  stop(): void {
    clearInterval(this.timer);
    this.clear();
  }
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}
