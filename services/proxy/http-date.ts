// HTTP-date, strictly (RFC 9110 §5.6.7): IMF-fixdate, and the two obsolete forms a recipient must
// still accept (RFC 850 and asctime). Anything else is not a date: Date.parse is far too lenient.

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF_FIXDATE = /^([A-Z][a-z]{2}), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC_850 = /^([A-Z][a-z]+), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sun Nov  6 08:49:37 1994
const ASCTIME = /^([A-Z][a-z]{2}) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** ms since the epoch, or undefined when the text is not an HTTP-date. */
export function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let m = IMF_FIXDATE.exec(text);
  if (m) return build(DAYS, m[1], m[2], m[3], Number(m[4]), m[5], m[6], m[7]);
  m = RFC_850.exec(text);
  if (m) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century
    const yy = Number(m[4]);
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return build(LONG_DAYS, m[1], m[2], m[3], year, m[5], m[6], m[7]);
  }
  m = ASCTIME.exec(text);
  if (m) return build(DAYS, m[1], m[3].trim(), m[2], Number(m[7]), m[4], m[5], m[6]);
  return undefined;
}

function build(
  dayNames: string[],
  day: string,
  date: string,
  month: string,
  year: number,
  hh: string,
  mm: string,
  ss: string,
): number | undefined {
  const mon = MONTHS.indexOf(month);
  const [d, h, mi, s] = [Number(date), Number(hh), Number(mm), Number(ss)];
  if (mon < 0 || !dayNames.includes(day) || d < 1 || h > 23 || mi > 59 || s > 60) return undefined;
  const t = Date.UTC(year, mon, d, h, mi, Math.min(s, 59));
  // no 31 Feb rolling into March
  if (new Date(t).getUTCDate() !== d) return undefined;
  return t;
}
