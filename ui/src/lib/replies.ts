// Quick replies in the composer: which ones match what follows the "/", the text in the
// customer's language, and the variables filled in.
import type { QuickReply } from "./ipc/types";

/** The variables a reply may use, and what fills them. */
export type ReplyVariables = {
  CustomerName?: string | null;
  AgentName?: string | null;
  ContactName?: string | null;
  Company?: string | null;
};

/** Case, width and composed forms do not matter (全角 and half-width, Thai marks composed). */
function fold(s: string): string {
  return s.normalize("NFKC").toLocaleLowerCase();
}

/** Each reply's title and texts folded once (a list is replaced, never changed, on reload). */
const folded = new WeakMap<QuickReply, { title: string; texts: string }>();
function haystack(r: QuickReply): { title: string; texts: string } {
  let h = folded.get(r);
  if (!h) {
    h = { title: fold(r.title), texts: Object.values(r.texts).map((t) => fold(t ?? "")).join("\n") };
    folded.set(r, h);
  }
  return h;
}

/** The replies matching `query`, best first: the title starting with it, the title holding
 * it, then a text holding it. Substring matching: Chinese, Japanese and Thai have no spaces
 * between words, so a word is found anywhere. */
export function filterReplies(list: readonly QuickReply[], query: string, limit = 50): QuickReply[] {
  const q = fold(query.trim());
  if (!q) return list.slice(0, limit);
  const ranked: [number, QuickReply][] = [];
  for (const r of list) {
    const { title, texts } = haystack(r);
    const rank = title.startsWith(q) ? 0 : title.includes(q) ? 1 : texts.includes(q) ? 2 : -1;
    if (rank >= 0) ranked.push([rank, r]);
  }
  ranked.sort((a, b) => a[0] - b[0]);
  return ranked.slice(0, limit).map(([, r]) => r);
}

/** The reply's text for a customer speaking `language`: that language, the same language of
 * another region (`zh-HK` for `zh-TW`), `fallback`, English, or the first there is. */
export function textFor(reply: QuickReply, language: string | null | undefined, fallback = "en"): string {
  const texts = reply.texts as Record<string, string | undefined>;
  const base = (tag: string) => tag.split("-")[0].toLowerCase();
  if (language) {
    if (texts[language]) return texts[language]!;
    const same = Object.keys(texts).find((k) => base(k) === base(language) && texts[k]);
    if (same) return texts[same]!;
  }
  return texts[fallback] ?? texts.en ?? Object.values(texts).find((t) => !!t) ?? "";
}

/** Fills `{CustomerName}` and the other variables; one without a value stays as written, for
 * the representative to see and complete. */
export function fillVariables(text: string, vars: ReplyVariables): string {
  return text.replace(/\{(CustomerName|AgentName|ContactName|Company)\}/g, (whole, name: keyof ReplyVariables) => vars[name] || whole);
}

/** The "/query" being typed at the caret, if any: where it starts and what follows the "/". */
export function slashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)\/([^\s/]*)$/u.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, query: m[2] };
}
