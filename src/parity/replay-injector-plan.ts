/** What `parity --replay` hands each injector (replay-injector.ts): a JSON file of this shape. */
export interface InjectorPlan {
  /** Wall-clock time (ms since the epoch) of offset 0, shared by every injector of the run. */
  readonly startAtMs: number;
  /** The least time between two frames sent (the kernel's answer to one is out before the next goes). */
  readonly minGapMs: number;
  /** Nothing is sent after startAtMs + maxSeconds. */
  readonly maxSeconds: number;
  /** In sending order: the interface, the time after offset 0, the frame's bytes. */
  readonly frames: readonly { readonly iface: string; readonly offsetNs: number; readonly hex: string }[];
}

/** The most frames one run injects (traffic stays bounded in count). */
export const MAX_INJECTED_FRAMES = 500;
/** The longest span of podwire's traffic a run replays (and the injectors' deadline after it). */
export const MAX_REPLAY_SECONDS = 60;
