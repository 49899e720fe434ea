import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CommandLineError,
  parseCommandLine,
  parseDuration,
  tokenizeCommandLine,
  type ParsedCommand,
} from '../../src/scenario/steps.js';

const words = (text: string) => tokenizeCommandLine(text).map((w) => w.value);

/** The CommandLineError a command line throws, as {offset, reason}. */
function failure(text: string): { offset: number; reason: string } {
  try {
    parseCommandLine(text);
  } catch (e) {
    if (e instanceof CommandLineError) return { offset: e.offset, reason: e.reason };
    throw e;
  }
  throw new Error(`no error for ${text}`);
}

describe('tokenizeCommandLine', () => {
  it('splits on blanks and keeps each word’s offsets', () => {
    expect(tokenizeCommandLine('kubectl  exec\tpa')).toEqual([
      { value: 'kubectl', start: 0, end: 7 },
      { value: 'exec', start: 9, end: 13 },
      { value: 'pa', start: 14, end: 16 },
    ]);
  });

  it.each([
    [`sh -c 'echo $HOME | wc -c'`, ['sh', '-c', 'echo $HOME | wc -c']],
    [`echo "a \\"b\\" \\$c \\\\ \\d"`, ['echo', 'a "b" $c \\ \\d']],
    [`echo a\\ b c\\'d`, ['echo', 'a b', "c'd"]],
    [`echo 'it'"'"'s'`, ['echo', "it's"]],
    [`echo '' ""`, ['echo', '', '']],
    [`curl http://10.96.0.100/?a=b&`.slice(0, -1), ['curl', 'http://10.96.0.100/?a=b']],
    [`echo a # a comment`, ['echo', 'a']],
    [`echo a#b`, ['echo', 'a#b']],
    [`kubectl exec pa -- \\\n  ping -c 1 x`, ['kubectl', 'exec', 'pa', '--', 'ping', '-c', '1', 'x']],
    [`echo "two\\\nlines"`, ['echo', 'twolines']],
    [`sleep 1\n`, ['sleep', '1']],
    [`echo $ 5$`, ['echo', '$', '5$']],
    [`echo "{\\"spec\\":1}"`, ['echo', '{"spec":1}']],
  ])('%j → %j', (text, expected) => {
    expect(words(text)).toEqual(expected);
  });

  it.each([
    ['kubectl exec pa -- ping x | head', 26, '"|" (a pipe) is not supported: a step is one command'],
    ['kubectl exec pa -- ping x > out', 26, '">" (a redirection) is not supported: a step is one command'],
    ['kubectl exec pa -- ping x >> out', 26, '">>" (a redirection) is not supported: a step is one command'],
    ['sleep 1; sleep 2', 7, '";" (a command list) is not supported: a step is one command'],
    ['sleep 1 && sleep 2', 8, '"&&" (a command list) is not supported: a step is one command'],
    ['sleep 1 || true', 8, '"||" (a command list) is not supported: a step is one command'],
    ['sleep 100 &', 10, '"&" (a background job) is not supported: a step is one command'],
    ['kubectl exec pa -- cat < in', 23, '"<" (a redirection) is not supported: a step is one command'],
    ['echo 2>&1', 6, '">&" (a redirection) is not supported: a step is one command'],
    ['(sleep 1)', 0, '"(" (a subshell) is not supported: a step is one command'],
    ['echo $HOME', 5, "variable expansion ($…) is not supported in a step; quote a literal $ with '…'"],
    ['echo "${X}"', 6, "variable expansion ($…) is not supported in a step; quote a literal $ with '…'"],
    ['echo $(date)', 5, "command substitution ($(…)) is not supported in a step; quote a literal $ with '…'"],
    ['echo `date`', 5, 'command substitution (`…`) is not supported in a step'],
    ["echo 'abc", 5, 'unterminated single quote'],
    ['echo "abc', 5, 'unterminated double quote'],
    ['echo abc\\', 8, 'a backslash at the end of the command escapes nothing'],
    ['sleep 1\nsleep 2', 7, 'a step is one command: a new line starts a second one (end the line with \\ to continue it)'],
  ])('refuses %j at offset %i', (text, offset, reason) => {
    expect(failure(text)).toEqual({ offset, reason });
  });

  it('throws only CommandLineError, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => {
        try {
          parseCommandLine(text);
        } catch (e) {
          if (!(e instanceof CommandLineError)) throw e;
          expect(e.offset).toBeGreaterThanOrEqual(0);
          expect(e.offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only CommandLineError on kubectl-shaped lines', () => {
    const word = fc.constantFrom(
      'kubectl', 'exec', 'run', 'apply', 'delete', 'pod', 'pods/pa', 'get', '-n', 'ns', '-c', 'web', '-it', '-i',
      '--', '-f', '-', '--image=busybox', '--restart=Never', '--rm', '--command', '--overrides={"spec":{"nodeName":"n1"}}',
      '--grace-period=0', '--force', '--now', '--port=80', '--labels=a=b', '--env=A=1', 'pa', 'sleep', '1', "'x y'", '"',
      '--namespace', '-nfoo', '--tty=false', '--stdin=maybe', '-x', '--bogus',
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 12 }), (ws) => {
        const text = ws.join(' ');
        try {
          parseCommandLine(text);
        } catch (e) {
          if (!(e instanceof CommandLineError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseCommandLine', () => {
  it.each<[string, ParsedCommand]>([
    [
      'kubectl exec client -- ping -c 2 10.244.1.3',
      { kind: 'exec', namespace: undefined, pod: 'client', podOffset: 13, container: undefined, containerOffset: 13, argv: ['ping', '-c', '2', '10.244.1.3'], interactive: false, tty: false },
    ],
    [
      'kubectl -n web exec -it pod/pa -c sidecar -- sh -c "curl -s http://x/"',
      { kind: 'exec', namespace: 'web', pod: 'pa', podOffset: 24, container: 'sidecar', containerOffset: 31, argv: ['sh', '-c', 'curl -s http://x/'], interactive: true, tty: true },
    ],
    [
      'kubectl exec --namespace=kube-system -ti dns --container=coredns -- cat /etc/resolv.conf',
      { kind: 'exec', namespace: 'kube-system', pod: 'dns', podOffset: 41, container: 'coredns', containerOffset: 45, argv: ['cat', '/etc/resolv.conf'], interactive: true, tty: true },
    ],
    [
      'kubectl exec -nweb pa -- ls -l',
      { kind: 'exec', namespace: 'web', pod: 'pa', podOffset: 19, container: undefined, containerOffset: 19, argv: ['ls', '-l'], interactive: false, tty: false },
    ],
    [
      'kubectl delete pod pa pb -n web --now',
      { kind: 'delete-pod', namespace: 'web', pods: [{ name: 'pa', offset: 19 }, { name: 'pb', offset: 22 }], gracePeriodSeconds: 1, ignoreNotFound: false },
    ],
    [
      'kubectl delete pod/pa --grace-period=0 --force',
      { kind: 'delete-pod', namespace: undefined, pods: [{ name: 'pa', offset: 15 }], gracePeriodSeconds: 0, ignoreNotFound: false },
    ],
    [
      'kubectl delete po pa --grace-period=0 --ignore-not-found',
      { kind: 'delete-pod', namespace: undefined, pods: [{ name: 'pa', offset: 18 }], gracePeriodSeconds: 1, ignoreNotFound: true },
    ],
    ['kubectl apply -f -', { kind: 'apply', namespace: undefined, namespaceOffset: 8 }],
    ['kubectl apply -n web -f -', { kind: 'apply', namespace: 'web', namespaceOffset: 14 }],
    ['sleep 2', { kind: 'sleep', durationNs: 2e9 }],
    ['sleep 0.5 1m', { kind: 'sleep', durationNs: 60.5e9 }],
    ['sleep .25s', { kind: 'sleep', durationNs: 0.25e9 }],
    ['kubectl get pods -o wide', { kind: 'kubectl-view', argv: ['get', 'pods', '-o', 'wide'] }],
    ['kubectl -n web describe pod pa', { kind: 'kubectl-view', argv: ['-n', 'web', 'describe', 'pod', 'pa'] }],
  ])('%s', (text, expected) => {
    expect(parseCommandLine(text)).toEqual(expected);
  });

  it('kubectl run: args after --, labels run=NAME by default, restart policy, attach/rm', () => {
    expect(parseCommandLine('kubectl run tmp --image=busybox:1.36 --restart=Never --rm -i -- wget -qO- http://10.96.0.100/')).toEqual({
      kind: 'run',
      namespace: undefined,
      name: 'tmp',
      nameOffset: 12,
      image: 'busybox:1.36',
      imageOffset: 16,
      restartPolicy: 'Never',
      isCommand: false,
      argv: ['wget', '-qO-', 'http://10.96.0.100/'],
      labels: undefined,
      labelsOffset: 12,
      annotations: [],
      port: undefined,
      env: [],
      nodeName: undefined,
      nodeNameOffset: 12,
      interactive: true,
      tty: false,
      attach: true,
      rm: true,
    });
  });

  it('kubectl run: --command, --labels, --port, --env, --overrides with spec.nodeName', () => {
    const r = parseCommandLine(
      `kubectl run web -n apps --image python:3.11 -l app=web,tier=front --port=8080 --env=PORT=8080 --env A=b=c ` +
        `--overrides='{"apiVersion":"v1","spec":{"nodeName":"n2"}}' --command -- python3 -m http.server 8080`,
    );
    expect(r).toMatchObject({
      kind: 'run',
      namespace: 'apps',
      name: 'web',
      image: 'python:3.11',
      restartPolicy: 'Always',
      isCommand: true,
      argv: ['python3', '-m', 'http.server', '8080'],
      labels: [{ key: 'app', value: 'web' }, { key: 'tier', value: 'front' }],
      port: 8080,
      env: [{ name: 'PORT', value: '8080' }, { name: 'A', value: 'b=c' }],
      nodeName: 'n2',
      attach: false,
      rm: false,
    });
  });

  it.each([
    ['', 0, 'the command is empty'],
    ['ping -c 1 10.244.1.3', 0, '"ping": a step is a kubectl, ssh, podwire or sleep command (to run a program in a pod: kubectl exec POD -- ping …; on a host: ssh HOST -- ping …)'],
    ['kubectl', 0, 'kubectl: a subcommand is required (exec, run, apply, delete, get, describe, logs)'],
    ['kubectl -n web', 0, 'kubectl: a subcommand is required (exec, run, apply, delete, get, describe, logs)'],
    ['kubectl port-forward pa 8080', 8, 'kubectl port-forward is not supported yet (steps run kubectl exec, run, apply -f -, delete pod, get, describe, logs)'],
    ['kubectl exec pa ping x', 16, 'kubectl exec POD COMMAND is not supported anymore; use kubectl exec POD -- COMMAND (as kubectl says)'],
    ['kubectl exec pa', 13, 'kubectl exec: you must specify at least one command for the container (after --)'],
    ['kubectl exec pa --', 13, 'kubectl exec: you must specify at least one command for the container (after --)'],
    ['kubectl exec -- ls', 13, 'kubectl exec: a pod is required (kubectl exec POD -- COMMAND …)'],
    ['kubectl exec deploy/web -- ls', 13, 'kubectl exec: deploy/… is not supported yet; give a pod\'s name'],
    ['kubectl exec --bogus pa -- ls', 13, 'kubectl exec: unknown flag: --bogus'],
    ['kubectl exec -ix pa -- ls', 13, "kubectl exec: unknown shorthand flag: 'x' in -ix"],
    ['kubectl exec pa -c', 16, "kubectl exec: flag needs an argument: 'c' in -c"],
    ['kubectl exec --stdin=maybe pa -- ls', 13, 'kubectl exec: invalid argument "maybe" for --stdin (true or false)'],
    ['kubectl exec --context=prod pa -- ls', 13, 'kubectl exec: flag --context is not supported by podwire'],
    ['kubectl delete', 8, 'kubectl delete: what to delete is required (kubectl delete pod NAME)'],
    ['kubectl delete pod', 15, 'kubectl delete pod: a pod name is required'],
    ['kubectl delete svc web', 15, 'kubectl delete svc: only pods can be deleted in a step (for now)'],
    ['kubectl delete pod/a b', 21, 'kubectl delete: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form'],
    ['kubectl delete pod a --now --grace-period=5', 27, 'kubectl delete: --now and --grace-period cannot be specified together'],
    ['kubectl delete pod a --all', 21, 'kubectl delete: flag --all is not supported by podwire'],
    ['kubectl apply', 8, "kubectl apply: must specify -f - (the manifest comes from the step's stdin)"],
    ['kubectl apply -f pod.yaml', 14, "kubectl apply -f pod.yaml: only -f - is supported; put the manifest in the step's stdin"],
    ['kubectl apply -f - extra', 19, 'kubectl apply: unexpected argument "extra"'],
    ['kubectl run', 8, 'kubectl run: NAME is required for run'],
    ['kubectl run x -- sh', 12, 'kubectl run: required flag(s) "image" not set'],
    ['kubectl run x --image=b --restart=never', 24, 'kubectl run: invalid restart policy: never (Always, OnFailure or Never)'],
    ['kubectl run x --image=b -t -- sh', 24, 'kubectl run: -i/--stdin is required for containers with -t/--tty=true'],
    ['kubectl run x --image=b --rm -- sh', 24, 'kubectl run: --rm should only be used for attached containers'],
    ['kubectl run x --image=b --command', 24, 'kubectl run: --command needs the command after --'],
    ['kubectl run x --image=b --port=http', 24, 'kubectl run: invalid --port "http" (1..65535)'],
    ['kubectl run x --image=b --env=NOVALUE', 24, 'kubectl run: invalid env: NOVALUE (NAME=value)'],
    ['kubectl run x --image=b -l app', 24, 'kubectl run: invalid label spec: app (key=value)'],
    [`kubectl run x --image=b --overrides='{"spec":{"hostNetwork":true}}'`, 24, `kubectl run: --overrides may only set the node: '{"spec":{"nodeName":"NODE"}}'`],
    ['kubectl run x --image=b --overrides=nope', 24, 'kubectl run: --overrides is not valid JSON'],
    ['kubectl run x --image=b --dry-run=client', 24, 'kubectl run: flag --dry-run is not supported by podwire'],
    ['sleep', 0, 'sleep: missing operand'],
    ['sleep 1 x', 8, "sleep: invalid time interval 'x'"],
    ['sleep 1e3', 6, "sleep: invalid time interval '1e3'"],
  ])('refuses %j at offset %i', (text, offset, reason) => {
    expect(failure(text)).toEqual({ offset, reason });
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['2s', 2e9],
    ['500ms', 5e8],
    ['1m30s', 90e9],
    ['1.5h', 5400e9],
    ['250us', 250e3],
    ['250µs', 250e3],
    ['100ns', 100],
    ['.5s', 5e8],
  ])('%s is %d ns', (text, ns) => {
    expect(parseDuration(text)).toBe(ns);
  });

  it.each([
    ['', 'a duration is empty (write e.g. 2s or 500ms)'],
    ['2', 'invalid duration "2" (a unit is needed: 2s?)'],
    ['-1s', 'invalid duration "-1s" (write e.g. 2s, 500ms, 1m30s)'],
    ['2 s', 'invalid duration "2 s" (write e.g. 2s, 500ms, 1m30s)'],
    ['1d', 'invalid duration "1d" (write e.g. 2s, 500ms, 1m30s)'],
    ['9999999h', 'duration "9999999h" is too long (at most 104 days)'],
  ])('%j is refused', (text, reason) => {
    expect(() => parseDuration(text)).toThrow(new RangeError(reason));
  });
});
