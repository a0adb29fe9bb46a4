// The one parser of each per-pid file whose fields several modules read:
// /proc/<pid>/stat (fs/proc/array.c do_task_stat: fields one space apart after
// `pid (comm)`, comm holding any bytes, spaces and parentheses too, so fields count from
// the last `)`) and /proc/<pid>/status (`Key:\tvalue` lines; Tgid, PPid, NSpid).

/** Field `n` of a stat text in proc(5)'s numbering (3 = state, 22 = starttime); undefined where the text has none. */
export function pidStatField(text: string, n: number): string | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  let at = close + 2;
  for (let field = 3; field < n; field++) {
    const space = text.indexOf(' ', at);
    if (space < 0) return undefined;
    at = space + 1;
  }
  const end = text.indexOf(' ', at);
  const value = (end < 0 ? text.slice(at) : text.slice(at, end)).trimEnd();
  return value === '' ? undefined : value;
}

const STATUS_LINES = { Tgid: /^Tgid:(.*)$/m, PPid: /^PPid:(.*)$/m, NSpid: /^NSpid:(.*)$/m } as const;

/** The numbers of a status text's `key:` line (NSpid has one per pid namespace); undefined without one, or with anything else on it. */
export function statusNumbers(text: string, key: keyof typeof STATUS_LINES): number[] | undefined {
  const values = STATUS_LINES[key].exec(text)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number) ?? [];
  return values.length === 0 || values.some((value) => !Number.isSafeInteger(value) || value < 0) ? undefined : values;
}
