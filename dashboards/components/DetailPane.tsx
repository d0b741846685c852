// The drill-down view of one mm: who uses it, the two answers, its lifecycle and its
// current executable mappings.
import { Box, Text } from 'ink';
import type { MmDetail } from '../display-types.js';
import { cell, clip, formatAddr, formatTs } from '../format.js';

export interface DetailPaneProps {
  detail: MmDetail | null;
  scroll: number;
  height: number;
  width: number;
  clockRef: { monotonicNs: number; wallMs: number } | null;
}

export function DetailPane({ detail, scroll, height, width, clockRef }: DetailPaneProps) {
  if (detail === null) return <Text dimColor>(this mm is no longer tracked)</Text>;
  const { row, asked, timeline, mappings, findings } = detail;
  const mapLines = Math.min(mappings.length, Math.max(2, Math.floor(height / 3)));
  const findingLines = Math.min(findings.length, 4);
  // What is left goes to the timeline, which scrolls with j/k.
  const timelineRows = Math.max(1, height - 7 - mapLines - findingLines);
  const first = Math.min(scroll, Math.max(0, timeline.length - timelineRows));
  return (
    <Box flexDirection="column">
      <Text bold>{clip(`mm ${row.mm} · pids ${row.pids.join(',')} · comm ${row.comm} · ${row.state}`, width)}</Text>
      <Text>{clip(`/proc/PID/exe: ${row.exe}   VMA walk: ${row.vmaWalk || '-'}`, width)}</Text>
      <Text>{clip(`asked: ${asked}`, width)}</Text>
      {findings.slice(-findingLines).map((f) => (
        <Text key={f.id} color={f.expected !== null ? 'gray' : f.uncertain ? 'yellow' : 'red'}>
          {clip(
            `${f.uncertain ? '?' : '!'}${f.class}${f.expected !== null ? ` (expected: ${f.expected})` : ''}: ${f.explanation} (legacy walk: ${f.legacyWalk || '-'})`,
            width,
          )}
        </Text>
      ))}
      <Text bold>{clip(`timeline (${timeline.length}, lines ${first + 1}-${Math.min(timeline.length, first + timelineRows)})`, width)}</Text>
      {timeline.slice(first, first + timelineRows).map((t, i) => (
        <Text key={`${first + i}`}>{clip(`${formatTs(t.ts, clockRef)}  ${t.text}`, width)}</Text>
      ))}
      <Text bold>{clip(`executable mappings (${mappings.length})`, width)}</Text>
      {mappings.slice(0, mapLines).map((m) => (
        <Text key={`${m.start}`}>
          {`${formatAddr(m.start)}-${formatAddr(m.end)} ${cell(m.perms, 4)} `}
          {clip(m.path, Math.max(0, width - 32))}
        </Text>
      ))}
    </Box>
  );
}
