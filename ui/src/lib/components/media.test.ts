// @vitest-environment happy-dom
// Pictures in a conversation reach the page as blob: URLs, which live until revoked: one
// answered after its view is gone (the representative opened another chat meanwhile) must not
// make one, and one shown is freed when its view goes.
import { afterEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import { settle } from "./testing";

const answers: Array<(m: unknown) => void> = [];
vi.mock("../ipc/client", () => ({
  backend: {
    fetchMedia: () => new Promise((r) => answers.push(r)),
    fetchUpload: () => new Promise((r) => answers.push(r)),
  },
}));
const { default: MediaView } = await import("./MediaView.svelte");
const { default: SentMedia } = await import("./SentMedia.svelte");

const PICTURE = { status: "ready", content_type: "image/png", data_base64: "iVBORw0KGgo=" };
const VIEWS = [
  ["a customer's picture", () => mount(MediaView, { target: document.createElement("div"), props: { channelId: "1650000000", messageId: "m1", kind: "image" } })],
  ["a picture this console sent", () => mount(SentMedia, { target: document.createElement("div"), props: { url: "/api/uploads/1", kind: "image" } })],
] as const;

describe("pictures' blob URLs", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    answers.length = 0;
  });

  for (const [name, open] of VIEWS) {
    it(`${name} answered after its view went makes none`, async () => {
      const made = vi.spyOn(URL, "createObjectURL");
      const view = open();
      flushSync();
      expect(answers).toHaveLength(1);
      await unmount(view);
      answers.shift()!(PICTURE);
      await settle();
      expect(made).not.toHaveBeenCalled();
    });

    it(`${name} shown is freed when its view goes`, async () => {
      const made = vi.spyOn(URL, "createObjectURL");
      const freed = vi.spyOn(URL, "revokeObjectURL");
      const view = open();
      flushSync();
      answers.shift()!(PICTURE);
      await settle();
      expect(made).toHaveBeenCalledTimes(1);
      const url = made.mock.results[0].value;
      await unmount(view);
      expect(freed).toHaveBeenCalledWith(url);
    });
  }
});
