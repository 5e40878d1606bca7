// Pure helpers for showing LINE content as text (never HTML).
import { numberFormat } from "./i18n/formatters";

/** A run of text, or one LINE emoji's placeholder (with the emoji's ids when LINE gave them). */
export interface Segment { text: string; emoji: boolean; productId?: string; emojiId?: string }

interface LineEmoji { index: number; length: number; productId?: unknown; emojiId?: unknown }

/** Splits text at LINE emoji placeholders (indexes are UTF-16 units, as JS strings are). */
export function segments(text: string, emojis: LineEmoji[] | undefined): Segment[] {
  const list = [...(emojis ?? [])].filter((e) => e.index >= 0 && e.length > 0 && e.index + e.length <= text.length);
  list.sort((a, b) => a.index - b.index);
  const out: Segment[] = [];
  let at = 0;
  for (const e of list) {
    if (e.index < at) continue;
    if (e.index > at) out.push({ text: text.slice(at, e.index), emoji: false });
    const ids = typeof e.productId === "string" && typeof e.emojiId === "string" ? { productId: e.productId, emojiId: e.emojiId } : {};
    out.push({ text: text.slice(e.index, e.index + e.length), emoji: true, ...ids });
    at = e.index + e.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), emoji: false });
  return out;
}

export function parseBody(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body);
    return typeof v === "object" && v !== null ? v : {};
  } catch {
    return {};
  }
}

export function fileSize(bytes: number, locale: string): string {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  // CLDR's short form of "byte" does not pluralise in English ("53 byte"); the long one does.
  return numberFormat(locale, {
    style: "unit", unit: units[u], unitDisplay: u === 0 ? "long" : "short", maximumFractionDigits: 1,
  }).format(v);
}

/** An OpenStreetMap link for coordinates (opened by the OS browser, not in the app). */
export function mapUrl(lat: number, lon: number): string {
  return `https://www.openstreetmap.org/?mlat=${lat.toFixed(6)}&mlon=${lon.toFixed(6)}#map=17/${lat.toFixed(6)}/${lon.toFixed(6)}`;
}

export function base64ToBlobUrl(b64: string, type: string): string {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return URL.createObjectURL(new Blob([bytes], { type }));
}

/** `ms` as a `datetime-local` input's value, in the user's own time zone. */
export function localDateTimeInput(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}
