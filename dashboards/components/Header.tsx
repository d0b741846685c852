// Top two lines: how the session is doing, then where the events come from.
import { Box, Text } from 'ink';
import type { SessionStats } from '../display-types.js';
import { clip } from '../format.js';

export interface HeaderProps {
  stats: SessionStats;
  mmCount: number;
  findingCount: number;
  width: number;
  /** The fleet view: one line per host (at most MAX_HOST_LINES shown). */
  hosts?: readonly string[];
}

export const HEADER_LINES = 2;
export const MAX_HOST_LINES = 4;

/** Lines the header takes with these hosts. */
export const headerLines = (hosts: readonly string[] | undefined): number => HEADER_LINES + Math.min(hosts?.length ?? 0, MAX_HOST_LINES);

export function Header({ stats, mmCount, findingCount, width, hosts }: HeaderProps) {
  // Live says LIVE only once the probes are attached: before that, nothing new is traced.
  const running = stats.source === 'replay' ? 'PLAYING' : stats.attached ? 'LIVE' : 'STARTING (attaching probes)';
  const status = stats.paused ? 'PAUSED' : stats.ended !== null ? stats.ended : running;
  const live = [`${mmCount} mms`, `${findingCount} findings`, `${stats.eventRate} ev/s`, `lost ${stats.lostEvents}`];
  if (stats.speed !== null) live.push(`speed ${stats.speed}`);
  const source = [`flavor ${stats.flavor}`, `kernel ${stats.kernel}`, `${stats.events} events`];
  if (stats.parseIssues > 0) source.push(`${stats.parseIssues} bad lines`);
  const lead = `exetrace ${stats.source} │ `;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{lead}</Text>
        <Text inverse={stats.paused} color={stats.ended !== null ? 'yellow' : undefined}>
          {clip(status, Math.max(1, width - lead.length))}
        </Text>
        <Text> │ {clip(live.join(' │ '), width)}</Text>
      </Text>
      <Text dimColor color={stats.lostEvents > 0 ? 'yellow' : undefined}>
        {clip(hosts === undefined ? source.join(' │ ') : `fleet: ${hosts.length} hosts │ ${stats.events} events`, width)}
      </Text>
      {(hosts ?? []).slice(0, MAX_HOST_LINES).map((h, i) => (
        <Text key={i} dimColor>
          {clip(i === MAX_HOST_LINES - 1 && hosts!.length > MAX_HOST_LINES ? `${h} (+${hosts!.length - MAX_HOST_LINES} more hosts)` : h, width)}
        </Text>
      ))}
    </Box>
  );
}
