interface Pending<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces calls made in the same tick into one batch. `submit()` queues an
 * item; the first submit of a tick schedules a flush with `setImmediate`, which
 * runs after every timer due in this turn of the event loop, so renewals of
 * many leases whose timers fire together go out in one round trip.
 */
export class TickBatcher<Item, Result> {
  readonly #run: (items: readonly Item[]) => Promise<readonly Result[]>;
  #queue: Pending<Item, Result>[] = [];

  /** `run` gets the items in submit order and must resolve one result per item, in the same order. */
  constructor(run: (items: readonly Item[]) => Promise<readonly Result[]>) {
    this.#run = run;
  }

  /** Queues `item` for the next batch; settles with its own result, or with the batch's error. */
  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#flush());
      this.#queue.push({ item, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    let results: readonly Result[];
    try {
      results = await this.#run(batch.map((p) => p.item));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      if (i < results.length) p.resolve(results[i] as Result);
      else p.reject(new Error(`a batch of ${batch.length} got ${results.length} results`));
    });
  }
}
