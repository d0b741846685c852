// The filter line shown while typing a filter.
import { Text } from 'ink';
import { clip } from '../format.js';

export function FilterPrompt({ draft, width }: { draft: string; width: number }) {
  return (
    <Text>
      <Text bold>filter: </Text>
      {clip(draft, Math.max(0, width - 10))}
      <Text inverse> </Text>
    </Text>
  );
}
