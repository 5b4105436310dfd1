/**
 * The streaming generator protocol's shared rules, used by both sides: the executor that runs a
 * generator task and the owner that holds its caller-side stream. The full protocol is in
 * docs/design.md, "Streaming generator protocol".
 *
 * <ul>
 *   <li><b>Ids.</b> The generator ref of task {@code T} is {@code ObjectId(T, 1)}; yield {@code k}
 *       is {@code ObjectId(T, 2 + k)}, below {@link dev.sluice.ObjectId#PUT_INDEX_BASE}. Items
 *       carry no id on the wire: both sides derive it from the index, only through {@link
 *       dev.sluice.runtime.generator.GeneratorIds}.
 *   <li><b>Order.</b> Item {@code k + 1} is not asked for before item {@code k}'s report was
 *       issued; reports may arrive in any order, the consumer gets items in index order.
 *   <li><b>Exactly once.</b> The owner inserts each index once and ignores duplicates, indices
 *       already consumed and reports of stale attempts.
 *   <li><b>Backpressure credit.</b> With a threshold {@code n}, the producer waits while {@code
 *       generated - consumed >= n}; the owner holds the reply to a report that fills the window and
 *       returns the credit in batches of at least {@code ⌈n/2⌉} (or after 2 ms): {@link
 *       dev.sluice.runtime.generator.CreditBatching}, DESIGN "Credit batching"; "not found" frees
 *       the producer. On the owner's node the count is also read in shared memory, without a reply
 *       ({@link dev.sluice.runtime.generator.SharedCredit}, DESIGN "Shared credit"), and while the
 *       consumer spins, small items travel through a ring in shared memory instead of reports
 *       ({@link dev.sluice.runtime.generator.SharedItems}, DESIGN "Shared items").
 *   <li><b>Retries.</b> The owner alone keeps the retry budget; it states in each attempt's spec
 *       whether an application error will be retried ({@link
 *       dev.sluice.runtime.generator.GeneratorRetries}). If so the executor fails the task instead
 *       of reporting an error item. A retried attempt reports every item again and the consumer
 *       resumes after the items already reported to it.
 * </ul>
 */
package dev.sluice.runtime.generator;
