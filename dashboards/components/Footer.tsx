// The key help line, generated from the key-binding table. One line, cut at the edge.
import { Text } from 'ink';
import { footerItems, type Mode } from '../keybindings.js';

export function Footer({ mode }: { mode: Mode }) {
  const items = footerItems(mode);
  return (
    <Text wrap="truncate-end">
      {items.map((it, i) => (
        <Text key={`${it.hint}-${it.label}`}>
          {i > 0 ? '  ' : ''}
          <Text inverse> {it.hint} </Text> {it.label}
        </Text>
      ))}
    </Text>
  );
}
