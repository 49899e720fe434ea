import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { FileSink, PcapWriter, PcapngWriter } from '../../pcap/index.js';
import { exampleFrames } from '../example-capture.js';
import { UserError } from '../user-error.js';

interface ExampleArgs {
  readonly out: string;
  readonly force: boolean;
}

/**
 * Writes the example captures into `out`, through a temporary folder beside it that is renamed
 * only when every file is complete: a failure leaves no folder that looks finished.
 */
export function writeExample(out: string, replace = false): string[] {
  const target = resolve(out);
  if (existsSync(target) && !replace) throw new UserError(`--out ${out}: already exists; give a new folder or --force to replace it`);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.podwire-tmp-${basename(target)}-${process.pid}`);
  mkdirSync(tmp);
  try {
    const frames = exampleFrames();
    const names = ['pod-pa-eth0.pcap', 'node-n1-eth0.pcap', 'example.pcapng'];
    const pod = new PcapWriter(new FileSink(join(tmp, names[0]!)));
    const node = new PcapWriter(new FileSink(join(tmp, names[1]!)));
    const merged = new PcapngWriter(new FileSink(join(tmp, names[2]!)), { application: 'podwire example' });
    const podIf = merged.addInterface({ name: 'eth0', description: 'pod pa (10.244.1.2) on node n1' });
    const nodeIf = merged.addInterface({ name: 'eth0', description: 'node n1 (192.168.1.10)' });
    for (const f of frames) {
      const onPod = f.iface === 'pod-eth0';
      (onPod ? pod : node).writePacket(f.timestampNs, f.bytes);
      merged.writePacket(onPod ? podIf : nodeIf, f.timestampNs, f.bytes, 0, f.bytes.length, f.bytes.length, f.comment);
    }
    pod.close();
    node.close();
    merged.close();
    if (replace) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return names.map((n) => join(target, n));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export const exampleCommand: CommandModule<object, ExampleArgs> = {
  command: 'example',
  describe: 'Write an example capture: a cross-node ping, on the pod and inside VXLAN on the node',
  builder: (y: Argv) =>
    y
      .option('out', { alias: 'o', type: 'string', default: 'out/example', describe: 'Folder to create for the captures' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace the folder if it exists' })
      .example('$0 example -o out/example', 'then open out/example/example.pcapng in Wireshark') as Argv<ExampleArgs>,
  handler: (args) => {
    const files = writeExample(args.out, args.force);
    console.log(`wrote ${files.length} capture files:`);
    for (const f of files) console.log(`  ${f}`);
    console.log(`open ${files[2]} in Wireshark (VXLAN on UDP 8472: Decode As… VXLAN, or tshark -d udp.port==8472,vxlan)`);
  },
};
