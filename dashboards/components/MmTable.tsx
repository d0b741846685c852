// The table of mms: one row per address space, windowed around the selection.
import { Box, Text } from 'ink';
import type { MmRow } from '../display-types.js';
import { cell } from '../format.js';
import type { SortKey } from '../table-order.js';

export interface MmTableProps {
  rows: readonly MmRow[];
  selectedKey: string | null;
  sortKey: SortKey;
  filter: string;
  /** Lines available for data rows. */
  height: number;
  width: number;
}

/** Column widths from the terminal width: paths get what is left. */
function columns(width: number, withHost: boolean) {
  const fixed = { host: withHost ? 12 : 0, pids: 14, comm: 16, state: 9, badge: 16 };
  const rest = Math.max(20, width - (fixed.host + fixed.pids + fixed.comm + fixed.state + fixed.badge) - 5 - (withHost ? 1 : 0));
  return { ...fixed, exe: Math.ceil(rest / 2), vma: Math.floor(rest / 2) };
}

function windowStart(selected: number, total: number, height: number): number {
  if (selected < 0 || total <= height) return 0;
  return Math.min(Math.max(0, selected - Math.floor(height / 2)), total - height);
}

export function MmTable({ rows, selectedKey, sortKey, filter, height, width }: MmTableProps) {
  // The fleet view (live --from) says whose mm each row is.
  const withHost = rows.some((r) => r.host !== undefined);
  const c = columns(width, withHost);
  const hostCell = (text: string): string[] => (withHost ? [cell(text, c.host)] : []);
  const selected = selectedKey === null ? -1 : rows.findIndex((r) => r.key === selectedKey);
  const start = windowStart(selected, rows.length, height);
  const visible = rows.slice(start, start + height);
  const title = `mms: ${rows.length} shown · sort ${sortKey}${filter !== '' ? ` · filter "${filter}"` : ''}`;
  return (
    <Box flexDirection="column">
      <Text dimColor>{cell(title, width)}</Text>
      <Text bold>
        {[
          ...hostCell('HOST'),
          cell('PID(S)', c.pids),
          cell('COMM', c.comm),
          cell('EXE', c.exe),
          cell('STATE', c.state),
          cell('VMA WALK', c.vma),
          cell('FINDING', c.badge),
        ].join(' ')}
      </Text>
      {visible.length === 0 ? <Text dimColor>(no mms{filter !== '' ? ' match the filter' : ' yet'})</Text> : null}
      {visible.map((r) => {
        const isSel = r.key === selectedKey;
        const badge = r.badge === null ? '' : `${r.uncertain ? '?' : '!'}${r.badge}`;
        return (
          <Text key={r.key} inverse={isSel} color={r.badge !== null ? (r.uncertain ? 'yellow' : 'red') : undefined}>
            {[
              ...hostCell(`${isSel ? '>' : ' '}${r.host ?? ''}`),
              cell((withHost ? ' ' : isSel ? '>' : ' ') + r.pids.join(','), c.pids),
              cell(r.comm, c.comm),
              cell(r.exe, c.exe),
              cell(r.state, c.state),
              cell(r.vmaWalk, c.vma),
              cell(badge, c.badge),
            ].join(' ')}
          </Text>
        );
      })}
    </Box>
  );
}
