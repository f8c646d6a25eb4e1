// The embed script: `<script type="module" src=".../qwen-chat.js"></script>` registers
// <qwen-chat>, and the module exports everything the library does.
import { defineQwenChat } from './qwen-chat.ts';

export * from './index.ts';

defineQwenChat();
