// How fast the quick-reply picker filters 2,000 replies as the representative types: a
// benchmark, not a test (`cd ui && LINEDESK_BENCH=1 npx vitest run src/lib/replies.bench.test.ts`
// prints the figures; the test command skips it).
import { describe, it } from "vitest";
import type { QuickReply } from "./ipc/types";
import { filterReplies } from "./replies";

const words = ["order", "refund", "delivery", "訂單", "退款", "配送", "注文", "返金", "配達", "คำสั่งซื้อ", "คืนเงิน", "จัดส่ง"];
const list: QuickReply[] = Array.from({ length: 2000 }, (_, i) => ({
  id: i,
  team: i % 3 === 0,
  owner: null,
  title: `${words[i % words.length]} ${i}`,
  texts: {
    en: `Hello {CustomerName}, about your ${words[(i + 1) % words.length]} number ${i}: we are on it.`,
    "zh-TW": `{CustomerName} 您好，關於您的${words[(i + 4) % words.length]}（${i}），我們正在處理。`,
    ja: `{CustomerName}様、${words[(i + 7) % words.length]}（${i}）について確認しております。`,
    th: `สวัสดีค่ะ คุณ{CustomerName} เรื่อง${words[(i + 10) % words.length]} หมายเลข ${i} กำลังดำเนินการค่ะ`,
  },
  image: null,
  updatedAt: 0,
}));

/** Median and worst of `runs` calls, in ms. */
function measure(f: () => void, runs = 500): { median: number; worst: number } {
  for (let i = 0; i < 50; i++) f();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], worst: times[runs - 1] };
}

describe.runIf(import.meta.env.LINEDESK_BENCH === "1")("picker over 2,000 quick replies", () => {
  it("filters as the representative types", () => {
    for (const [name, q] of [
      ["one letter (most match)", "o"],
      ["a Thai word", "คืนเงิน"],
      ["a Chinese word found in the texts", "處理"],
      ["nothing matches", "zzzz"],
    ] as const) {
      const { median, worst } = measure(() => filterReplies(list, q, 8));
      console.log(`figure: picker, ${name}: median ${median.toFixed(3)} ms, worst ${worst.toFixed(3)} ms`);
    }
  });
});
