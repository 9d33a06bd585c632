// The messages of the files directly in src/lib/ (completion.ts), in English and French (see
// run/catalogue.ts). The man page (man.ts) is English on purpose: it has none here.
import { catalogue } from './run/catalogue.js';

export const messages = catalogue({
  // The comment at the top of each completion script: how to install it.
  bashScript: {
    en: 'chaton completion for bash. Load it from ~/.bashrc: source <(chaton completion bash)',
    fr: 'complétion de chaton pour bash. Chargez-la depuis ~/.bashrc : source <(chaton completion bash)',
  },
  zshScript: {
    en:
      'chaton completion for zsh. Put it in a directory of $fpath as _chaton, or, after compinit\n' +
      'in ~/.zshrc: source <(chaton completion zsh)',
    fr:
      'complétion de chaton pour zsh. Mettez-la dans un répertoire de $fpath sous le nom _chaton, ou,\n' +
      'après compinit dans ~/.zshrc : source <(chaton completion zsh)',
  },
  fishScript: {
    en: 'chaton completion for fish: save as ~/.config/fish/completions/chaton.fish',
    fr: 'complétion de chaton pour fish : enregistrez-la sous ~/.config/fish/completions/chaton.fish',
  },
});
