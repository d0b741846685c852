// What `analyze` was asked for, shared by analyze of files and of a fleet stream (kept apart from
// analyze.ts so analyze-fleet.ts, loaded only for nats:// addresses, does not import it back).
import { htmlDocument } from '../report/html.js';
import { jsonDocument, markdownDocument, textDocument } from '../report/documents.js';
import type { ReportDocument } from '../report/totals.js';
import type { ExceptionsCliOptions } from './exceptions-option.js';

export interface AnalyzeCliOptions extends ExceptionsCliOptions {
  format: 'text' | 'json' | 'markdown' | 'html';
  pid?: number;
  comm?: string;
  lenient?: boolean;
}

export const DOCUMENTS: Record<AnalyzeCliOptions['format'], ReportDocument> = {
  text: textDocument,
  json: jsonDocument,
  markdown: markdownDocument,
  html: htmlDocument,
};
