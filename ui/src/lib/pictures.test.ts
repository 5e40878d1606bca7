// @vitest-environment happy-dom
// The picture cache: asked once, the most recently used kept, "none" remembered, a picture the
// relay is still fetching asked again, failures and answers after a sign-out never kept.
import { describe, expect, it } from "vitest";
import { MAX_PICTURES, PictureCache, pictureKey } from "./pictures";
import type { Media, Picture } from "./ipc/types";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const ready: Media = { status: "ready", content_type: "image/png", data_base64: PNG };
const sticker = (id: string): Picture => ({ kind: "sticker", sticker_id: id, animation: false });
const noWait = () => Promise.resolve();

describe("the picture cache", () => {
  it("keys each kind apart", () => {
    expect(pictureKey(sticker("1"))).toBe("sticker:1");
    expect(pictureKey({ kind: "sticker", sticker_id: "1", animation: true })).toBe("sticker:1:animation");
    expect(pictureKey({ kind: "emoji", product_id: "p", emoji_id: "001" })).toBe("emoji:p:001");
    expect(pictureKey({ kind: "avatar", channel_id: "c", user_id: "U1" })).toBe("avatar:c:U1");
  });

  it("asks once for a picture however often it is shown, and remembers that there is none", async () => {
    const asked: string[] = [];
    const cache = new PictureCache(async (p) => {
      asked.push(pictureKey(p));
      return p.kind === "sticker" && p.sticker_id === "gone" ? { status: "gone", content_type: null, data_base64: null } : ready;
    }, noWait);
    const [a, b] = await Promise.all([cache.url(sticker("1")), cache.url(sticker("1"))]);
    expect(a).toMatch(/^blob:/);
    expect(b).toBe(a);
    expect(await cache.url(sticker("gone"))).toBeNull();
    expect(await cache.url(sticker("gone"))).toBeNull();
    expect(asked).toEqual(["sticker:1", "sticker:gone"]);
  });

  it("asks again while the relay is still fetching, and forgets failures", async () => {
    let calls = 0;
    const cache = new PictureCache(async () => {
      calls++;
      if (calls === 1) throw new Error("offline");
      return calls < 4 ? { status: "pending", content_type: null, data_base64: null } : ready;
    }, noWait);
    expect(await cache.url(sticker("1"))).toBeNull();
    expect(cache.size).toBe(0);
    expect(await cache.url(sticker("1"))).toMatch(/^blob:/);
    expect(calls).toBe(4);
  });

  it("keeps at most the most recently used few hundred, and nothing after a sign-out", async () => {
    let calls = 0;
    const cache = new PictureCache(async () => (calls++, ready), noWait);
    for (let i = 0; i < MAX_PICTURES + 50; i++) {
      await cache.url(sticker(String(i)));
      if (i % 10 === 0) await cache.url(sticker("0"));
    }
    expect(cache.size).toBe(MAX_PICTURES);
    // Shown often, "0" stayed; "1" was the least recently used and went.
    const before = calls;
    await cache.url(sticker("0"));
    expect(calls).toBe(before);
    await cache.url(sticker("1"));
    expect(calls).toBe(before + 1);
    let release: (m: Media) => void = () => {};
    const slow = new PictureCache(() => new Promise<Media>((r) => (release = r)), noWait);
    const late = slow.url({ kind: "avatar", channel_id: "c", user_id: "U1" });
    slow.clear();
    release(ready);
    expect(await late).toBeNull();
    expect(slow.size).toBe(0);
  });
});
