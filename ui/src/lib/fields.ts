// The relay names the field it refuses: one "field: reason" line per field. Forms put each
// reason under its input; whatever names no known field is shown at the top.

export type FieldErrors = { fields: Record<string, string>; other: string[] };

export function fieldErrors(message: string, known: readonly string[]): FieldErrors {
  const out: FieldErrors = { fields: {}, other: [] };
  for (const line of message.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const m = /^([\w.[\]]+): (.+)$/.exec(line);
    if (m && known.includes(m[1])) out.fields[m[1]] = m[2];
    else out.other.push(line);
  }
  return out;
}
