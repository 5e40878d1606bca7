// Pictures the relay keeps besides customers' media: stickers, LINE emoji and customers'
// faces. Each is asked for once and kept as a `blob:` URL (the CSP allows no remote picture),
// the most recently used few hundred; a picture the relay is still fetching, or has not heard
// of yet, is asked again a few times; one it could not fetch for good is remembered as none.
// Sign-out forgets them all.
import { base64ToBlobUrl } from "./format";
import type { Media, Picture } from "./ipc/types";

/** Pictures kept at most (an avatar or a sticker is a few KB decoded as a blob). */
export const MAX_PICTURES = 400;
/** Waits before asking again for a picture the relay is still fetching. */
const PENDING_WAITS_MS = [500, 1000, 2000, 4000, 8000];

export function pictureKey(p: Picture): string {
  switch (p.kind) {
    case "sticker": return `sticker:${p.sticker_id}${p.animation ? ":animation" : ""}`;
    case "emoji": return `emoji:${p.product_id}:${p.emoji_id}`;
    case "avatar": return `avatar:${p.channel_id}:${p.user_id}`;
  }
}

type Fetch = (p: Picture) => Promise<Media>;

export class PictureCache {
  private kept = new Map<string, Promise<string | null>>();
  /** Bumped by `clear`, so answers that arrive after a sign-out are dropped. */
  private generation = 0;

  constructor(
    private fetch: Fetch,
    private sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** The picture's `blob:` URL, or null when there is none (or it cannot be had now). */
  url(p: Picture): Promise<string | null> {
    const key = pictureKey(p);
    const hit = this.kept.get(key);
    if (hit) {
      // Most recently used last.
      this.kept.delete(key);
      this.kept.set(key, hit);
      return hit;
    }
    const generation = this.generation;
    const loading = this.load(p).then(({ url, lasting }) => {
      if (generation !== this.generation) {
        if (url) URL.revokeObjectURL(url);
        return null;
      }
      // Offline, signed out, still fetching: ask again next time.
      if (!lasting && this.kept.get(key) === loading) this.kept.delete(key);
      return url;
    });
    this.kept.set(key, loading);
    while (this.kept.size > MAX_PICTURES) {
      const [oldest, url] = this.kept.entries().next().value!;
      this.kept.delete(oldest);
      void url.then((u) => u && URL.revokeObjectURL(u));
    }
    return loading;
  }

  /** How many pictures are kept (tests). */
  get size(): number {
    return this.kept.size;
  }

  /** Forgets every picture (sign-out: faces are customers' data). */
  clear() {
    this.generation++;
    for (const url of this.kept.values()) void url.then((u) => u && URL.revokeObjectURL(u));
    this.kept.clear();
  }

  private async load(p: Picture): Promise<{ url: string | null; lasting: boolean }> {
    for (let attempt = 0; ; attempt++) {
      let media: Media;
      try {
        media = await this.fetch(p);
      } catch {
        return { url: null, lasting: false };
      }
      if (media.status === "ready" && media.data_base64) {
        return { url: base64ToBlobUrl(media.data_base64, media.content_type ?? "application/octet-stream"), lasting: true };
      }
      if (media.status === "gone") return { url: null, lasting: true };
      // Still being fetched, or not heard of yet (the relay reads the event or profile a
      // moment after the message): asked again a few times, then not remembered.
      if (attempt >= PENDING_WAITS_MS.length) return { url: null, lasting: false };
      await this.sleep(PENDING_WAITS_MS[attempt]);
    }
  }
}
