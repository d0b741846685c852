// The newest findings, newest at the bottom like a log.
import { Box, Text } from 'ink';
import type { FindingRow } from '../display-types.js';
import { clip, formatTs } from '../format.js';

export interface FindingsFeedProps {
  findings: readonly FindingRow[];
  height: number;
  width: number;
  clockRef: { monotonicNs: number; wallMs: number } | null;
}

export function findingLine(f: FindingRow, clockRef: FindingsFeedProps['clockRef']): string {
  const mark = f.uncertain ? '?' : '!';
  return `${formatTs(f.ts, clockRef)} ${f.host !== undefined ? `${f.host} ` : ''}${mark}${f.class} pid ${f.pid} ${f.comm}: exe ${f.exe} · vma walk ${f.vmaWalk || '-'} — ${f.explanation}`;
}

export function FindingsFeed({ findings, height, width, clockRef }: FindingsFeedProps) {
  const shown = findings.slice(Math.max(0, findings.length - height));
  return (
    <Box flexDirection="column">
      <Text bold>{clip(`findings (${findings.length})`, width)}</Text>
      {shown.length === 0 ? <Text dimColor>(none yet)</Text> : null}
      {shown.map((f) => (
        <Text key={f.id} color={f.uncertain ? 'yellow' : 'red'}>
          {clip(findingLine(f, clockRef), width)}
        </Text>
      ))}
    </Box>
  );
}
