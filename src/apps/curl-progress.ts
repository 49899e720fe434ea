/**
 * curl's progress meter (lib/progress.c, 7.88.1), which curl writes to stderr unless -s, or
 * unless its output goes to a terminal: the two header lines, then a line redrawn after `\r` at
 * most once per wall-clock second (progress_calc's `lastshow != now.tv_sec`) and once at the end,
 * which adds the newline. "Current" speed is only recomputed when the second changes, so a
 * transfer that starts and ends within one second of the (virtual) wall clock shows 0 there, as
 * curl does.
 */
export const METER_HEADER =
  '  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n' +
  '                                 Dload  Upload   Total   Spent    Left  Speed\n';

/** max5data(): a byte count or speed in five characters. */
export function max5data(bytes: number): string {
  const KB = 1024;
  const MB = KB * KB;
  if (bytes < 100000) return String(bytes).padStart(5);
  if (bytes < 10000 * KB) return `${String(Math.floor(bytes / KB)).padStart(4)}k`;
  if (bytes < 100 * MB) return `${String(Math.floor(bytes / MB)).padStart(2)}.${Math.floor((bytes % MB) / (MB / 10))}M`;
  return `${String(Math.floor(bytes / MB)).padStart(4)}M`;
}

/** time2str(): `--:--:--` for zero, else H:MM:SS in eight characters. */
export function time2str(seconds: number): string {
  if (seconds <= 0) return '--:--:--';
  const h = Math.floor(seconds / 3600);
  if (h <= 99) return `${String(h).padStart(2)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  const d = Math.floor(seconds / 86400);
  return d <= 999 ? `${String(d).padStart(3)}d ${String(Math.floor((seconds - d * 86400) / 3600)).padStart(2, '0')}h` : `${String(d).padStart(7)}d`;
}

/** trspeed(): bytes per second over `us` microseconds. */
const trspeed = (size: number, us: number) => (us < 1 ? size * 1_000_000 : Math.floor((size * 1_000_000) / us));

export class ProgressMeter {
  private lastShowSec = -1;
  private currentSpeed = 0;
  private headerShown = false;
  downloaded = 0;
  uploaded = 0;
  /** The response's Content-Length, once known. */
  expectedDownload: number | undefined;
  expectedUpload: number | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly startNs: number,
    /** The wall clock's second at a virtual time. */
    private readonly wallSecond: (ns: number) => number,
  ) {}

  /** Curl_pgrsUpdate(): draws a line when the wall-clock second has changed, or at the end. */
  update(nowNs: number, done = false): void {
    const sec = this.wallSecond(nowNs);
    const us = Math.floor((nowNs - this.startNs) / 1000);
    const dl = trspeed(this.downloaded, us);
    const ul = trspeed(this.uploaded, us);
    let show = done;
    if (sec !== this.lastShowSec) {
      // The first second (and every later one, without the five-second history kept here) uses the average.
      this.currentSpeed = this.lastShowSec < 0 ? 0 : dl + ul;
      this.lastShowSec = sec;
      show = true;
    }
    if (!show) return;
    if (!this.headerShown) {
      this.write(METER_HEADER);
      this.headerShown = true;
    }
    const pct = (n: number, total: number | undefined) => (total ? Math.floor((n * 100) / total) : 0);
    // progress_meter(): a size not announced counts as what has been moved so far.
    const totalExpected = (this.expectedDownload ?? this.downloaded) + (this.expectedUpload ?? this.uploaded);
    const totalDone = this.downloaded + this.uploaded;
    const spentSec = Math.floor(us / 1_000_000);
    const estimate = (total: number | undefined, speed: number) => (total && speed ? Math.floor(total / speed) : 0);
    const totalEst = Math.max(estimate(this.expectedDownload, dl), estimate(this.expectedUpload, ul));
    const left = totalEst > spentSec ? totalEst - spentSec : 0;
    this.write(
      `\r${String(pct(totalDone, totalExpected)).padStart(3)} ${max5data(totalExpected)}  ` +
        `${String(pct(this.downloaded, this.expectedDownload)).padStart(3)} ${max5data(this.downloaded)}  ` +
        `${String(pct(this.uploaded, this.expectedUpload)).padStart(3)} ${max5data(this.uploaded)}  ` +
        `${max5data(dl)}  ${max5data(ul)} ${time2str(totalEst)} ${time2str(spentSec)} ${time2str(left)} ${max5data(this.currentSpeed)}` +
        (done ? '\n' : ''),
    );
  }
}
