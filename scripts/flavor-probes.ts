// Generates every program but probes/tracepoint.bt from it, so the three flavors print the same
// line protocol by construction: every probe block is copied verbatim except the ones the four
// kernel functions replace. Variants (src/trace/probe-program.ts names their files):
//   - the kfunc and kprobe flavors, for begin_new_exec kernels (5.8+) and flush_old_exec ones;
//   - each of those and tracepoint.bt again in bpftrace 0.23's language (probes/bpftrace-0.23/).
// `npm run probes:gen` rewrites them; test/unit/probe-generator.test.ts (in npm test) fails when
// one is stale, and test/vm/flavor-probes.test.ts compiles them.
//
// Replaced blocks (tracepoint → function):
//   sched:sched_prepare_exec → begin_new_exec entry (exec_begin; stashes the pre-de_thread tid);
//                              flush_old_exec before 5.8 (same argument, same point of no return)
//   sched:sched_process_exec → finalize_exec entry (exec; start_code is set by then, unlike at
//                              begin_new_exec's return, which only drops the stash on failure)
//   mmap:exit_mmap           → mmput entry when mm_users is 1 (the final put)
//   sched:sched_process_exit → same tracepoint (group_dead read from signal->live, as in
//                              tracepoint.bt: the tracepoint field only exists since 6.16)
// Added: the VMA-removal function ($7: remove_vma, or vm_area_free where remove_vma is inlined),
// and proc_exe_link's return (exe_read with sys 4: the kernel resolving a /proc/PID/exe link).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_VARIANT, programRelativePath, type ExecEntry, type ProbeFlavor, type ProgramVariant } from '../src/trace/probe-program.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type FunctionFlavor = 'kfunc' | 'kprobe';

/** Every generated program: the function flavors in each variant, and tracepoint.bt in 0.23's language. */
export const GENERATED_PROGRAMS: readonly { flavor: ProbeFlavor; variant: ProgramVariant }[] = [
  ...(['0.17', '0.23'] as const).flatMap((dialect) =>
    (['begin_new_exec', 'flush_old_exec'] as const).flatMap((execEntry) =>
      (['kfunc', 'kprobe'] as const).map((flavor) => ({ flavor, variant: { dialect, execEntry } })),
    ),
  ),
  { flavor: 'tracepoint', variant: { dialect: '0.23', execEntry: 'begin_new_exec' } },
];

interface Block {
  lead: string[];
  specs: string[];
  /** The predicate's expression without the slashes, or null. */
  pred: string | null;
  body: string[];
}

export class ProbeTemplateError extends Error {}

function parse(text: string): { preamble: string[]; blocks: Block[]; tail: string[] } {
  const lines = text.split('\n');
  let i = 0;
  const preamble: string[] = [];
  // The shebang and the header comment are the tracepoint flavor's own; replaced below.
  while (i < lines.length && (lines[i]!.startsWith('#!') || lines[i]!.trim() === '')) preamble.push(lines[i++]!);
  if (lines[i]?.startsWith('/*')) {
    while (i < lines.length && !lines[i]!.includes('*/')) preamble.push(lines[i++]!);
    preamble.push(lines[i++]!);
  }
  const blocks: Block[] = [];
  let lead: string[] = [];
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('//')) {
      lead.push(line);
      i++;
      continue;
    }
    if (!/^[A-Za-z]/.test(line)) throw new ProbeTemplateError(`tracepoint.bt line ${i + 1}: expected a probe, got ${JSON.stringify(line)}`);
    const specs: string[] = [];
    while (i < lines.length && /^[A-Za-z]/.test(lines[i]!)) specs.push(lines[i++]!);
    let pred: string | null = null;
    const p = lines[i]?.match(/^\/(.*)\/\s*$/);
    if (p) {
      pred = p[1]!.trim();
      i++;
    }
    if (lines[i] !== '{') throw new ProbeTemplateError(`tracepoint.bt line ${i + 1}: expected "{" after ${specs.join(' ')}`);
    i++;
    const body: string[] = [];
    while (i < lines.length && lines[i] !== '}') body.push(lines[i++]!);
    if (i >= lines.length) throw new ProbeTemplateError(`tracepoint.bt: block ${specs[0]} never closes`);
    i++;
    blocks.push({ lead, specs, pred, body });
    lead = [];
  }
  return { preamble, blocks, tail: lead };
}

function render(b: Block): string[] {
  return [...b.lead, ...b.specs, ...(b.pred !== null ? [`/ ${b.pred} /`] : []), '{', ...b.body, '}'];
}

const indent = (body: string[]): string[] => body.map((l) => (l === '' ? l : `  ${l}`));

/** Replaces exactly `count` occurrences (so a change in tracepoint.bt fails loudly here). */
function replaceAll(body: string[], from: string, to: string, where: string): string[] {
  const joined = body.join('\n');
  if (!joined.includes(from)) throw new ProbeTemplateError(`tracepoint.bt ${where}: expected ${JSON.stringify(from)}`);
  return joined.split(from).join(to).split('\n');
}

/** The line saying which bpftrace and which kernels a generated program is for. */
function variantLine(v: ProgramVariant, flavor: ProbeFlavor): string {
  const lang = v.dialect === '0.23' ? "bpftrace 0.23+'s language (fentry/fexit, args.x, config block)" : "bpftrace 0.17's language";
  const kernels =
    flavor === 'tracepoint' ? 'Linux 6.8+' : v.execEntry === 'flush_old_exec' ? 'kernels before 5.8 (flush_old_exec)' : 'Linux 5.8+ (begin_new_exec)';
  return ` * VARIANT: ${lang}; ${kernels}.`;
}

function header(flavor: FunctionFlavor, v: ProgramVariant): string[] {
  const how = flavor === 'kfunc' ? 'fentry/fexit (BTF; bpftrace 0.17 spells them kfunc/kretfunc)' : 'kprobe/kretprobe';
  const ex = v.execEntry.padEnd(16);
  return `#!/usr/bin/env bpftrace
/*
 * ${flavor}.bt  exetrace probes, ${flavor} flavor. GENERATED from tracepoint.bt by
 *            scripts/flavor-probes.ts: edit that file or tracepoint.bt, then npm run probes:gen.
 *            Prints the same line protocol as tracepoint.bt (docs/line-protocol.md).
${variantLine(v, flavor)}
 *
 * USAGE: bpftrace -f json ${flavor}.bt PID COMM SELFPID MNTOFF COMMOFF SIBOFF VMAFREE
 *   $1..$6  as in tracepoint.bt (pid filter, comm filter, exetrace's pid, offsetof(mount, mnt),
 *           offsetof(task_struct, comm), offsetof(task_struct, sibling))
 *   $7 VMAFREE  remove_vma where it is a traceable function (6.12), else vm_area_free
 *               (Debian 6.1 inlines remove_vma); chosen from BTF, never from user input.
 *
 * The four kernel functions through ${how}:
 *   ${ex} exec_begin (old mm, bprm->filename, bprm->interp); its return drops
 *                    the stashed pre-de_thread tid when exec fails before the point of no return
 *   finalize_exec    exec (new mm, exe_file = bprm->file, code range: set by now)
 *   mmput            mm_exit, only for the final put (mm_users 1 -> 0)
 *   $7               munmap of an executable VMA of the exe file removed outside
 *                    munmap/mremap/mmap (those print their own lines), outside exec and exit
 *   proc_exe_link    exe_read with sys 4 at its return: the reader, the target's /proc
 *                    directory name (dir), and the path the link resolves to (answer.c*)
 * Everything else is tracepoint.bt's own blocks, copied verbatim. See docs/flavors.md.
 */`.split('\n');
}

export function generateFlavorProgram(tracepointText: string, flavor: FunctionFlavor, variant: ProgramVariant = DEFAULT_VARIANT): string {
  const { blocks, tail } = parse(tracepointText);
  const execEntry: ExecEntry = variant.execEntry;
  const kf = flavor === 'kfunc';
  const entry = (fn: string): string => (kf ? `kfunc:${fn}` : `kprobe:${fn}`);
  const ret = (fn: string): string => (kf ? `kretfunc:${fn}` : `kretprobe:${fn}`);
  const arg = (name: string, idx: number): string => (kf ? `args->${name}` : `arg${idx}`);
  const seen = new Set<string>();
  const out: string[] = [...header(flavor, variant)];
  const walk = pathWalk(blocks);
  for (const b of blocks) {
    const spec = b.specs[0]!.replace(/,$/, '');
    const pred = b.pred ?? '1';
    if (spec === 'tracepoint:sched:sched_prepare_exec') {
      seen.add(spec);
      let body = replaceAll(b.body, 'args->filename', '$bprm->filename', spec);
      body = replaceAll(body, 'args->interp', '$bprm->interp', spec);
      out.push(
        ...b.lead,
        entry(execEntry),
        '{',
        '  // Unfiltered: the comm filter may match only the new image (checked at finalize_exec).',
        '  @oldtid[curtask] = tid;',
        `  if (${pred}) {`,
        `    $bprm = (struct linux_binprm *)${arg('bprm', 0)};`,
        ...indent(body),
        '  }',
        '}',
        '',
        ret(execEntry),
        '/ retval != 0 /',
        '{',
        '  delete(@oldtid[curtask]);',
        '}',
      );
    } else if (spec === 'tracepoint:sched:sched_process_exec') {
      seen.add(spec);
      let body = replaceAll(b.body, 'args->old_pid', '$oldtid', spec);
      body = replaceAll(body, 'args->filename', '$bprm->filename', spec);
      out.push(
        ...b.lead,
        entry('finalize_exec'),
        '{',
        '  $oldtid = @oldtid[curtask];',
        // A stashed tid is never 0; deleting a missing key is a helper error bpftrace 0.23 prints.
        '  if ($oldtid != 0) { delete(@oldtid[curtask]); }',
        `  if ($oldtid != 0 && (${pred})) {`,
        `    $bprm = (struct linux_binprm *)${arg('bprm', 0)};`,
        ...indent(body),
        '  }',
        '}',
      );
    } else if (spec === 'tracepoint:mmap:exit_mmap') {
      seen.add(spec);
      const body = kf ? b.body : replaceAll(b.body, 'args->mm', 'arg0', spec);
      out.push(
        ...b.lead,
        '// The final put only: mm_users drops from 1 to 0 in this call, then __mmput tears down.',
        entry('mmput'),
        `/ ((struct mm_struct *)${arg('mm', 0)})->mm_users.counter == 1 && (${pred}) /`,
        '{',
        ...body,
        '}',
        '',
      );
      out.push(...removeVmaBlock(entry('$7'), arg('vma', 0), pred));
    } else if (spec === 'tracepoint:sched:sched_process_exit') {
      seen.add(spec);
      const body = b.body;
      // Most exiting tasks never exec'd: delete only a stash that exists (0.23 reports the rest).
      out.push(...b.lead, ...b.specs, '{', '  if (@oldtid[curtask] != 0) { delete(@oldtid[curtask]); }', `  if (${pred}) {`, ...indent(body), '  }', '}');
    } else if (spec === 'END') {
      out.push(...exeLinkBlock(kf, exeReadPredicate(blocks), walk));
      out.push(...b.lead, ...b.specs, '{', ...b.body, kf ? '  clear(@oldtid);' : '  clear(@oldtid); clear(@exe_link);', '}');
    } else {
      out.push(...render(b));
    }
  }
  for (const s of [
    'tracepoint:sched:sched_prepare_exec',
    'tracepoint:sched:sched_process_exec',
    'tracepoint:mmap:exit_mmap',
    'tracepoint:sched:sched_process_exit',
  ]) {
    if (!seen.has(s)) throw new ProbeTemplateError(`tracepoint.bt has no ${s} block to replace`);
  }
  out.push(...tail);
  let text = out.join('\n');
  if (!text.endsWith('\n')) text += '\n';
  return variant.dialect === '0.23' ? toDialect023(text) : text;
}

/** tracepoint.bt in bpftrace 0.23's language: its own header, a variant line, the config block. */
export function generateTracepointProgram023(tracepointText: string): string {
  const lines = tracepointText.split('\n');
  const end = lines.findIndex((l) => l.includes('*/'));
  if (end < 0 || !lines[0]!.startsWith('#!')) throw new ProbeTemplateError('tracepoint.bt: no shebang and header comment');
  const head = [
    ...lines.slice(0, end),
    ' *',
    ' * GENERATED from probes/tracepoint.bt by scripts/flavor-probes.ts (npm run probes:gen).',
    variantLine({ dialect: '0.23', execEntry: 'begin_new_exec' }, 'tracepoint'),
    ...lines.slice(end),
  ];
  return toDialect023(head.join('\n'));
}

/** The readlink probe's predicate (pid, comm and self filters), applied to the reader. */
function exeReadPredicate(blocks: Block[]): string {
  const b = blocks.find((x) => x.specs[0] === 'tracepoint:syscalls:sys_enter_readlink');
  if (!b?.pred) throw new ProbeTemplateError('tracepoint.bt has no filtered tracepoint:syscalls:sys_enter_readlink block');
  return b.pred;
}

/**
 * sched_process_exec's bounded path walk of `$f->f_path`, from its first dentry load to the
 * count's delete, so the exe link's answer is walked exactly like every other path.
 */
function pathWalk(blocks: Block[]): string[] {
  const b = blocks.find((x) => x.specs[0] === 'tracepoint:sched:sched_process_exec');
  const from = b?.body.findIndex((l) => l.trim() === '$wd = (struct dentry *)$f->f_path.dentry;') ?? -1;
  const to = b?.body.findIndex((l) => l.trim() === 'delete(@ncomp[tid]);') ?? -1;
  if (!b || from < 0 || to < from) throw new ProbeTemplateError('tracepoint.bt sched_process_exec: path walk of $f->f_path not found');
  const walk = replaceAll(b.body.slice(from, to + 1), '$f->f_path.dentry', '$ep->dentry', 'exec walk');
  return replaceAll(walk, '$f->f_path.mnt', '$ep->mnt', 'exec walk');
}

/**
 * proc_exe_link(dentry, exe_path[, task]) at return: dentry is /proc/<pid>/exe on both
 * signatures, so its parent's name is the target (the 3rd argument is never read). exe_path is
 * only filled on success. A walk cut at its bound prints no answer (the decoder gives null).
 */
function exeLinkBlock(kf: boolean, pred: string, walk: string[]): string[] {
  const load = kf
    ? [
        'kretfunc:proc_exe_link',
        `/ ${pred} /`,
        '{',
        '  $d = (struct dentry *)args->dentry;',
        '  $ep = (struct path *)args->exe_path;',
        '  $ret = (int64)retval;',
      ]
    : [
        'kprobe:proc_exe_link',
        `/ ${pred} /`,
        '{',
        '  @exe_link[tid] = ((uint64)arg0, (uint64)arg1);',
        '}',
        '',
        'kretprobe:proc_exe_link',
        '/ @exe_link[tid].0 != 0 /',
        '{',
        '  $a = @exe_link[tid];',
        '  delete(@exe_link[tid]);',
        '  $d = (struct dentry *)$a.0;',
        '  $ep = (struct path *)$a.1;',
        '  $ret = (int64)(int32)retval;',
      ];
  return [
    '',
    '// ---- proc_exe_link: the kernel resolving /proc/<pid>/exe (readlink, open, stat, exec of it) ----',
    '// exe_read with sys 4: path "exe", dir = the /proc/<pid> (or task/<tid>) directory, answer',
    '// = exe_path walked like every other path (no " (deleted)"), as answer.c* parts.',
    ...load,
    '  $ts = nsecs;',
    '  $dp = (struct dentry *)$d->d_parent;',
    '  $ncomp = 0;',
    '  if ($ret == 0) {',
    ...walk,
    '  }',
    '  $pn = $ncomp < 0 ? 0 - $ncomp : $ncomp;',
    '  $pa = $ncomp < 0 ? 0 : $ncomp;',
    '  $seq = @seq[cpu] + 1; @seq[cpu] = $seq;',
    '  printf("H exe_read %u %llu %llu %d %d %d 4 %lld %s\\n", cpu, $seq, $ts, pid, tid, 2 + $pa, $ret, comm);',
    '  printf("P %u %llu path exe\\n", cpu, $seq);',
    '  printf("P %u %llu dir %s\\n", cpu, $seq, str($dp->d_name.name));',
    '  $pj = 0;',
    '  while ($pj < $pn && $pj < 24) {',
    '    if ($ncomp > 0) { printf("P %u %llu answer.c%d %s\\n", cpu, $seq, $pj, @comp[tid, 0 + $pj]); }',
    '    delete(@comp[tid, 0 + $pj]);',
    '    $pj++;',
    '  }',
    '}',
  ];
}

function removeVmaBlock(probe: string, vmaArg: string, pred: string): string[] {
  return `// The exe's executable VMA removed by the kernel outside munmap/mremap/MAP_FIXED mmap (each
// prints its own line, and their argument stash marks the thread as inside one), outside exec
// (@oldtid) and exit (mm_users 0): reported as a munmap of the VMA's range.
// vm_area_free (the 6.1 fallback) also runs when a merge absorbs a VMA whose range stays mapped;
// mprotect and madvise merges are the only such callers outside those syscalls.
${probe}
/ @munmap_args[tid].0 == 0 && @mremap_args[tid].0 == 0 && @mmap_args[tid].0 == 0 && @oldtid[curtask] == 0 && (${pred}) /
{
  $v = (struct vm_area_struct *)${vmaArg};
  $mm = (struct mm_struct *)$v->vm_mm;
  if ($mm != 0) {
    $vf = (struct file *)$v->vm_file;
    $ef = (struct file *)$mm->exe_file;
    if ($mm->mm_users.counter > 0 && $vf != 0 && $ef != 0 && ($v->vm_flags & 4) != 0 && $vf->f_inode == $ef->f_inode) {
      $ts = nsecs;
      $seq = @seq[cpu] + 1; @seq[cpu] = $seq;
      printf("H munmap %u %llu %llu %d %d 0 0x%llx %llu %llu %lld %s\\n", cpu, $seq, $ts, pid, tid, (uint64)$mm,
             $v->vm_start, $v->vm_end - $v->vm_start, 0, comm);
    }
  }
}`.split('\n');
}

/**
 * 0.23's settings, right after the header comment (docs/flavors.md, src/trace/bpftrace-dialect.ts):
 * 256-byte strings (0.17: 64) so a path component (NAME_MAX 255) is never cut; a cut string
 * without the ".." trailer (0.18+), so it stays a byte prefix; no map dump at exit; and a
 * probe that cannot attach fails the program instead of a warning.
 */
export const CONFIG_023 = `
// bpftrace 0.23 settings: see the VARIANT line above and docs/flavors.md.
config = {
  max_strlen = 256;
  str_trunc_trailer = "";
  print_maps_on_exit = 0;
  missing_probes = "error"
}`;

/**
 * bpftrace 0.23's spelling: fentry/fexit (0.20+; kfunc/kretfunc are the old names) and `args.x`
 * (0.19+: args is a struct; args->x is kept for compatibility), plus the config block.
 */
export function toDialect023(text: string): string {
  const renamed = text
    .replace(/\bkretfunc:/g, 'fexit:')
    .replace(/\bkfunc:/g, 'fentry:')
    .replace(/\bargs->/g, 'args.');
  // 0.23 counts the NUL in str()'s size: the readlink answer (not NUL-terminated) needs ret + 1.
  const answer = 'str(uptr($a.2), args.ret)';
  if (renamed.split(answer).length !== 2) throw new ProbeTemplateError(`expected one readlink answer ${answer}`);
  const lines = renamed.replace(answer, 'str(uptr($a.2), args.ret + 1)').split('\n');
  const end = lines.findIndex((l) => l.includes('*/'));
  if (end < 0) throw new ProbeTemplateError('program has no header comment to put the config block after');
  return [...lines.slice(0, end + 1), ...CONFIG_023.split('\n'), ...lines.slice(end + 1)].join('\n');
}

export function programPath(flavor: ProbeFlavor, variant: ProgramVariant = DEFAULT_VARIANT): string {
  return join(PROJECT_ROOT, programRelativePath(flavor, variant));
}

export function generateFromRepo(flavor: ProbeFlavor, variant: ProgramVariant = DEFAULT_VARIANT): string {
  const tp = readFileSync(join(PROJECT_ROOT, 'probes', 'tracepoint.bt'), 'utf8');
  if (flavor === 'tracepoint') {
    if (variant.dialect !== '0.23') throw new ProbeTemplateError('probes/tracepoint.bt is the source, not generated');
    return generateTracepointProgram023(tp);
  }
  return generateFlavorProgram(tp, flavor, variant);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { flavor, variant } of GENERATED_PROGRAMS) {
    const path = programPath(flavor, variant);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, generateFromRepo(flavor, variant));
    process.stdout.write(`wrote ${path}\n`);
  }
}
