// Rules bpftrace 0.22/0.23 enforce that 0.17 did not, checked on the text of every program
// exetrace ships (probes/tracepoint.bt and everything generated from it):
// - block scoping (0.22, migration guide "Added block scoping for scratch variables"): a
//   scratch variable read must be assigned in the same block or an enclosing one;
// - pid and tid are uint32 (0.22): a variable or map that holds pid/tid never also holds
//   another value (0.23: "Integer size mismatch" when a wider one follows).
// The trixie guest (test/vm) compiles and runs them with 0.23.2; these keep a later edit honest
// on a host that has only 0.17.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_PROGRAMS, generateFromRepo, programPath } from '../../scripts/flavor-probes.js';

/** Comments and string literals blanked out, so only code is scanned (newlines kept). */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
}

/** Variables read outside every block that assigns them; "line: $x" each. */
function scopeViolations(text: string): string[] {
  const code = codeOnly(text);
  const bad: string[] = [];
  const scopes: Set<string>[] = [];
  const declared = (v: string) => scopes.some((s) => s.has(v));
  const re = /(\{)|(\})|\$([A-Za-z_]\w*)(\s*(?:=(?!=)|\+\+|--|[-+*/|&]=))?|\blet\s+\$([A-Za-z_]\w*)/g;
  for (const m of code.matchAll(re)) {
    const line = code.slice(0, m.index).split('\n').length;
    if (m[1]) scopes.push(new Set());
    else if (m[2]) scopes.pop();
    else if (m[5]) scopes.at(-1)?.add(`$${m[5]}`);
    else if (m[3]) {
      const v = `$${m[3]}`;
      const op = m[4]?.trim();
      if (op === '=' && !declared(v)) scopes.at(-1)?.add(v);
      else if (!declared(v)) bad.push(`${line}: ${v}`);
    }
  }
  return bad;
}

/** Variables (per probe block) and maps that are assigned pid/tid and also something else. */
function pidWidthViolations(text: string): string[] {
  const code = codeOnly(text);
  const bad: string[] = [];
  const mapValues = new Map<string, Set<string>>();
  // Probe blocks start at column 0 with "{" and end with "}" at column 0.
  for (const block of code.split(/\n\}\n/)) {
    const vars = new Map<string, Set<string>>();
    for (const m of block.matchAll(/(\$[A-Za-z_]\w*|@[A-Za-z_]\w*)(?:\[[^\]]*\])?\s*=(?!=)\s*([^;\n]+)/g)) {
      const target = m[1]!;
      const value = m[2]!.trim();
      const kind = value === 'pid' || value === 'tid' ? 'pid' : 'other';
      const table = target.startsWith('@') ? mapValues : vars;
      if (!table.has(target)) table.set(target, new Set());
      table.get(target)!.add(kind);
    }
    for (const [v, kinds] of vars) if (kinds.size > 1) bad.push(v);
  }
  for (const [m, kinds] of mapValues) if (kinds.size > 1) bad.push(m);
  return bad;
}

const programs = [
  { name: 'probes/tracepoint.bt', text: readFileSync(programPath('tracepoint'), 'utf8') },
  ...GENERATED_PROGRAMS.map(({ flavor, variant }) => ({ name: programPath(flavor, variant), text: generateFromRepo(flavor, variant) })),
];

describe('bpftrace 0.22+ block scoping', () => {
  it('catches the migration guide example', () => {
    expect(scopeViolations('BEGIN\n{\n  if (0) {\n    $x = "hello";\n  }\n  print(($x));\n}\n')).toEqual(['6: $x']);
    expect(scopeViolations('BEGIN\n{\n  $x = "";\n  if (0) {\n    $x = "hello";\n  }\n  print(($x));\n}\n')).toEqual([]);
    expect(scopeViolations('BEGIN\n{\n  let $x;\n  if (0) { $x = 1; }\n  $x++;\n}\n')).toEqual([]);
    // Both branches assigning is still not enough.
    expect(scopeViolations('BEGIN\n{\n  if (0) { $x = 1; } else { $x = 2; }\n  print($x);\n}\n')).toEqual(['4: $x']);
  });

  for (const p of programs) {
    it(`${p.name}: every variable is read inside a block that assigns it`, () => {
      expect(scopeViolations(p.text)).toEqual([]);
    });
  }
});

describe('bpftrace 0.22+ uint32 pid and tid', () => {
  it('catches a variable that holds pid and then a 64-bit value', () => {
    expect(pidWidthViolations('BEGIN\n{\n  $x = pid;\n  $x = cgroup;\n}\n')).toEqual(['$x']);
    expect(pidWidthViolations('BEGIN\n{\n  @t[1] = tid;\n}\n\nEND\n{\n  @t[2] = nsecs;\n}\n')).toEqual(['@t']);
    expect(pidWidthViolations('BEGIN\n{\n  $x = (uint64)pid;\n  $x = cgroup;\n}\n')).toEqual([]);
  });

  for (const p of programs) {
    it(`${p.name}: no variable or map mixes pid/tid with other values`, () => {
      expect(pidWidthViolations(p.text)).toEqual([]);
    });
  }
});
