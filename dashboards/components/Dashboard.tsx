// The whole screen as a pure function of read-only props: header, table or detail, feed,
// filter prompt, footer.
import { Box } from 'ink';
import type { FindingRow, MmDetail, MmRow, SessionStats } from '../display-types.js';
import type { UiState } from '../ui-state.js';
import { DetailPane } from './DetailPane.js';
import { FilterPrompt } from './FilterPrompt.js';
import { FindingsFeed } from './FindingsFeed.js';
import { Footer } from './Footer.js';
import { Header, headerLines } from './Header.js';
import { MmTable } from './MmTable.js';

export interface DashboardProps {
  stats: SessionStats;
  /** Rows after filter and sort, in display order. */
  rows: readonly MmRow[];
  mmCount: number;
  findings: readonly FindingRow[];
  detail: MmDetail | null;
  ui: UiState;
  /** The highlighted row (may differ from ui.selectedKey when that one was filtered away). */
  selectedKey: string | null;
  width: number;
  height: number;
  /** The fleet view's per-host summaries. */
  hosts?: readonly string[];
}

const FEED_LINES = 6;

export function Dashboard(p: DashboardProps) {
  const prompt = p.ui.mode === 'filter' ? 1 : 0;
  // header + footer + prompt + feed (title + lines) + table title + column header
  const body = Math.max(3, p.height - headerLines(p.hosts) - 1 - prompt - (FEED_LINES + 1) - 2);
  return (
    <Box flexDirection="column" width={p.width}>
      <Header stats={p.stats} mmCount={p.mmCount} findingCount={p.findings.length} width={p.width} hosts={p.hosts} />
      {p.ui.mode === 'detail' ? (
        <DetailPane detail={p.detail} scroll={p.ui.detailScroll} height={body + 2} width={p.width} clockRef={p.stats.clockRef} />
      ) : (
        <MmTable rows={p.rows} selectedKey={p.selectedKey} sortKey={p.ui.sortKey} filter={p.ui.filter} height={body} width={p.width} />
      )}
      <FindingsFeed findings={p.findings} height={FEED_LINES} width={p.width} clockRef={p.stats.clockRef} />
      {p.ui.mode === 'filter' ? <FilterPrompt draft={p.ui.draft} width={p.width} /> : null}
      <Footer mode={p.ui.mode} />
    </Box>
  );
}
