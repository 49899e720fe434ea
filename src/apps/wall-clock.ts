/**
 * The wall clock programs read (time(2)), from the virtual one: VIRTUAL_EPOCH_SEC at virtual time
 * 0. Containers run in UTC (no TZ, no /etc/localtime in the images modelled), so local time is
 * UTC, and every format here is a UTC one.
 */
import { VIRTUAL_EPOCH_SEC } from '../sim/scheduler.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Whole seconds since the Unix epoch at virtual time `nowNs` (time() truncates). */
export function unixSeconds(nowNs: number): number {
  return VIRTUAL_EPOCH_SEC + Math.floor(nowNs / 1e9);
}

/** RFC 7231 IMF-fixdate, `Thu, 01 Jan 2026 00:00:01 GMT`: email.utils.formatdate(usegmt=True), Go's http.TimeFormat. */
export function httpDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

/** BaseHTTPRequestHandler.log_date_time_string: `01/Jan/2026 00:00:01`. */
export function pythonLogDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** Go's log package default prefix (log.LstdFlags), and http-echo's "2006/01/02 15:04:05". */
export function goLogDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** strftime "%a %b %d %H:%M:%S %Z %Y" in UTC, as dig's `;; WHEN:` line: `Thu Jan 01 00:00:01 UTC 2026`. */
export function digWhen(sec: number): string {
  const d = new Date(sec * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
