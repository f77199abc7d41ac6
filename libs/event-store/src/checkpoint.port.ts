/** Where a subscriber (projection, reactor, dispatcher, relay) keeps the last global position it has handled. */
export interface CheckpointStore {
  get(name: string): Promise<bigint | undefined>;
  set(name: string, position: bigint): Promise<void>;
}

export const CHECKPOINT_STORE = Symbol('CHECKPOINT_STORE');
