/**
 * capture/ — taps that write what each device carried (one pcap per interface, one merged pcapng)
 * and the run's output folder. Sees net/ only through its Tap and device types.
 */
export { CaptureSet, type HostKind, type HostLabel, type InterfaceRecord } from './capture-set.js';
export { RunFolder, RunFolderError } from './run-folder.js';
export { TraceFile } from './trace-file.js';
