/**
 * `npm run bench`: prints podwire's performance figures beside the machine's ceilings measured in
 * the same run. Figures only; nothing here passes or fails.
 */
import { cpus } from 'node:os';
import { benchEncode } from './bench/encode.js';
import { benchCaptureWrite } from './bench/capture-write.js';
import { benchDatapath } from './bench/datapath.js';
import { benchBulkTcp } from './bench/bulk-tcp.js';
import { benchServices } from './bench/services.js';

console.log(`podwire bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log('');
benchEncode();
console.log('');
benchCaptureWrite();
console.log('');
benchDatapath();
console.log('');
benchBulkTcp();
console.log('');
benchServices();
