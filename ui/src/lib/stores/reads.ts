// Reads that may answer out of order.

/** Numbers reads; only an answer newer than the last shown counts. */
export class Reads {
  private asked = 0;
  private shown = 0;

  start() {
    const n = ++this.asked;
    return {
      /** Whether this answer is newer than any shown so far (and marks it shown). */
      newest: () => {
        if (n <= this.shown) return false;
        this.shown = n;
        return true;
      },
    };
  }
}
