// What a fleet source feeds: one TraceConsumer per recording it finds in the stream (each host's
// recording gets its own reducer). The line printer and the dashboard store both implement it.
import type { TraceConsumer } from '../src/trace/consumer.js';

export interface FleetRecording {
  host: string;
  recording: string;
}

export interface FleetSink extends TraceConsumer {
  open(recording: FleetRecording): TraceConsumer;
}
