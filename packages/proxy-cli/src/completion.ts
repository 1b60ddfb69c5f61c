import type { Command, Option } from 'commander';
import { PRIORITIES } from 'proxy-client';
import { TASK_STATUSES } from 'proxy-client/wire';
import { DEMO_NAMES } from './options.js';
import { ACTION_FLAGS, goesWith } from './to-cli-options.js';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export function isCompletionShell(value: string): value is CompletionShell {
  return (COMPLETION_SHELLS as readonly string[]).includes(value);
}

const DEMO_CHOICES = ['all', ...DEMO_NAMES];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** What the values of an option or a command's argument are, where a shell can offer them. */
const OPTION_VALUES: Readonly<Record<string, readonly string[] | 'files'>> = {
  '--status': TASK_STATUSES,
  '--demo': DEMO_CHOICES,
  '--method': METHODS,
  '--priority': PRIORITIES,
  '--data': 'files',
};
/** Options given again add to the first (`-H a -H b`): a shell offers them again. */
const REPEATABLE = new Set(['--header']);
const COMMAND_VALUES: Readonly<Record<string, readonly string[]>> = {
  demo: DEMO_CHOICES,
  completion: COMPLETION_SHELLS,
};

/** The program's options and commands as the scripts need them, read from commander itself. */
interface Spec {
  options: Array<{
    long: string;
    short: string | undefined;
    description: string;
    value: 'none' | 'required' | 'optional';
    values: readonly string[] | 'files' | undefined;
  }>;
  commands: Array<{
    name: string;
    description: string;
    argument?: { name: string; required: boolean } | undefined;
  }>;
  /**
   * Where a line has chosen its action (a command, or an action's flag), the flags that go with
   * it, as that command's help lists them: the others are refused or mean nothing there.
   */
  actions: Array<{ names: string[]; flags: string[] }>;
}

const flagsOf = (options: readonly Option[]) =>
  options.flatMap((option) => [option.short, option.long].filter((flag) => flag !== undefined));

function specOf(program: Command): Spec {
  // Help's own list: every visible option, -h/--help and -V/--version included.
  const options = program
    .createHelp()
    .visibleOptions(program)
    .flatMap((option: Option) =>
      option.long
        ? [
            {
              long: option.long,
              short: option.short,
              description: option.description,
              value: option.required
                ? ('required' as const)
                : option.optional
                  ? ('optional' as const)
                  : ('none' as const),
              values: OPTION_VALUES[option.long],
            },
          ]
        : [],
    );
  const commands: Spec['commands'] = program.commands.flatMap((command) =>
    [command.name(), ...command.aliases()].map((name) => {
      const [argument] = command.registeredArguments;
      return {
        name,
        description: command.description(),
        argument: argument && { name: argument.name(), required: argument.required },
      };
    }),
  );
  commands.push({ name: 'help', description: 'print the help of a command' });
  const actions = [
    ...program.commands.map((command) => {
      const help = command.createHelp();
      return {
        names: [command.name(), ...command.aliases()],
        flags: flagsOf([...help.visibleOptions(command), ...help.visibleGlobalOptions(command)]),
      };
    }),
    ...Object.entries(ACTION_FLAGS).map(([key, flag]) => {
      const fits = goesWith({ [key]: 'x' });
      const options = program.createHelp().visibleOptions(program);
      // `--watch --stats` is the stats watched, as `--stats --watch` is (which goesWith knows).
      const also = flag === ACTION_FLAGS.watch ? [ACTION_FLAGS.stats] : [];
      return {
        names: [flag],
        flags: [
          ...flagsOf(options.filter((o) => o.long !== '--version' && fits(o.long ?? o.flags))),
          ...also,
        ],
      };
    }),
  ];
  return { options, commands, actions };
}

/** The completion script for `shell`, generated from the program so it never misses a flag. */
export function completionScript(shell: CompletionShell, program: Command): string {
  const spec = specOf(program);
  switch (shell) {
    case 'bash':
      return bashScript(spec);
    case 'zsh':
      return zshScript(spec);
    case 'fish':
      return fishScript(spec);
  }
}

const words = (values: readonly string[]) => values.join(' ');

/** The flags whose value may be the next word, short forms too (`-H 'X: y'`). */
function valuedFlags(spec: Spec, kind: 'required' | 'optional'): string[] {
  return spec.options
    .filter((o) => o.value === kind)
    .flatMap((o) => (o.short ? [o.short, o.long] : [o.long]));
}

/** An action's flag already chosen gives way to this one: `--watch --stats` is the stats watched. */
const OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  [ACTION_FLAGS.watch, ACTION_FLAGS.stats],
];

function bashScript(spec: Spec): string {
  const flags = spec.options.flatMap((o) => (o.short ? [o.short, o.long] : [o.long]));
  const valued = (kind: 'required' | 'optional') => valuedFlags(spec, kind);
  const valueCases = spec.options
    .filter((o) => o.value !== 'none')
    .map((o) => {
      const names = o.short ? `${o.short}|${o.long}` : o.long;
      // A value that may be left out: a flag typed there is the next flag, not its value.
      const orFlag = o.value === 'optional' ? '\n      [[ "$cur" == -* ]] && return 1' : '';
      if (o.values === 'files') {
        return `    ${names})\n      [[ "$cur" == @* ]] && COMPREPLY=($(compgen -f -P @ -- "\${cur#@}"))\n      return 0 ;;`;
      }
      if (o.values)
        return `    ${names})${orFlag}\n      COMPREPLY=($(compgen -W "${words(o.values)}" -- "$cur"))\n      return 0 ;;`;
      return o.value === 'required' ? `    ${names}) return 0 ;;` : undefined;
    })
    .filter((line) => line !== undefined);
  const commandCases = Object.entries(COMMAND_VALUES).map(
    ([name, values]) => `    ${name}) COMPREPLY=($(compgen -W "${words(values)}" -- "$cur")) ;;`,
  );
  const actionFlags = Object.values(ACTION_FLAGS);
  const overrides = OVERRIDES.map(
    ([from, to]) =>
      `\n        elif [[ "$action" == ${from} && "\${word%%=*}" == ${to} ]]; then action=${to}`,
  ).join('');
  const actionCases = spec.actions.map(
    (action) => `      ${action.names.join('|')}) flags="${words(action.flags)}" ;;`,
  );
  return `# bash completion for proxy-cli
# This shell:   source <(proxy-cli completion bash)
# Every shell:  mkdir -p ~/.local/share/bash-completion/completions && proxy-cli completion bash > ~/.local/share/bash-completion/completions/proxy-cli
#               (read by the bash-completion package; without it, the line above in ~/.bashrc)
_proxy_cli() {
  # The words as typed, split at spaces outside quotes (-H 'X: y' is two words, quotes kept):
  # bash's own (COMP_WORDS) are split at @ and : too, so --data @bo would be --data, @ and bo,
  # and a URL three words.
  local line="\${COMP_LINE:0:COMP_POINT}" words=() word="" quote="" char i
  for ((i = 0; i < \${#line}; i++)); do
    char="\${line:i:1}"
    if [[ -n "$quote" ]]; then
      [[ "$char" == "$quote" ]] && quote=""
    elif [[ "$char" == \\" || "$char" == \\' ]]; then
      quote="$char"
    elif [[ "$char" == [[:space:]] ]]; then
      [[ -n "$word" ]] && words+=("$word")
      word=""
      continue
    fi
    word+="$char"
  done
  words+=("$word")
  local cword=$(( \${#words[@]} - 1 ))
  local cur="\${words[cword]}" prev="\${words[cword-1]}"
  local commands="${words(spec.commands.map((c) => c.name))}"
  COMPREPLY=()
  if [[ "$cur" == --*=* ]]; then
    # --status=f is a value typed for the option before the =: nothing else goes there.
    prev="\${cur%%=*}"; cur="\${cur#*=}"
    _proxy_cli_value
  else
    _proxy_cli_value || _proxy_cli_words
  fi
  # What is typed is replaced from its last = or : on (http://x: stays; @ splits COMP_WORDS only).
  local before="\${cur%"\${cur##*[=:]}"}"
  [[ -n "$before" ]] && COMPREPLY=("\${COMPREPLY[@]#"$before"}")
  return 0
}
# The values of the option in prev, when it takes one it knows; else status 1.
_proxy_cli_value() {
  case "$prev" in
${valueCases.join('\n')}
  esac
  return 1
}
_proxy_cli_words() {
  # The command is the first word that is neither a flag nor a flag's value; the action, that
  # command or the first action's flag.
  local i word command="" action=""
  for ((i = 1; i < cword; i++)); do
    word="\${words[i]}"
    case "\${word%%=*}" in
      ${actionFlags.join('|')})
        if [[ -z "$action" ]]; then action="\${word%%=*}"${overrides}
        fi ;;
    esac
    case "$word" in
      ${valued('required').join('|')}) ((i++)) ;;
      ${valued('optional').join('|')}) [[ "\${words[i+1]}" != -* ]] && ((i++)) ;;
      -*) ;;
      *) command="$word"; [[ -z "$action" ]] && action="$word"; break ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    local flags="${words(flags)}"
    case "$action" in
${actionCases.join('\n')}
    esac
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  # Commands where none is chosen yet, nor an action's flag (one action a call), and after help.
  case "$action" in
    "" | help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
${commandCases.join('\n')}
  esac
  return 0
}
complete -F _proxy_cli proxy-cli
`;
}

/** Text for a zsh spec inside single quotes: no quote, no brackets, which the spec would end. */
function zshText(text: string): string {
  return text.replaceAll("'", '’').replaceAll('[', '(').replaceAll(']', ')');
}

function zshScript(spec: Spec): string {
  const arg = (o: Spec['options'][number]) => {
    if (o.value === 'none') return '';
    const colon = o.value === 'optional' ? '::' : ':';
    const name = o.long.slice(2);
    if (o.values === 'files') return `${colon}${name}:{compset -P @ && _files}`;
    if (o.values) return `${colon}${name}:(${words(o.values)})`;
    return `${colon}${name}: `;
  };
  const allFlags = spec.options.flatMap((o) => (o.short ? [o.short, o.long] : [o.long]));
  const actionOf = new Map(spec.actions.flatMap((a) => a.names.map((name) => [name, a.flags])));
  /** An option's spec; on the top level, an action's flag hides the flags that do not go with it. */
  const optionSpec = (o: Spec['options'][number], top: boolean) => {
    const described = `[${zshText(o.description)}]${arg(o)}`;
    // `--status=`: its value is the next word, or follows an = in the same one.
    const long = o.value === 'none' ? o.long : `${o.long}=`;
    // What may follow an action's flag also takes in what goes with an action it may be joined
    // by: `--watch --stats --poll-interval 5` (zsh hides a flag for good once one hides it).
    const joined = top ? actionOf.get(o.long) : undefined;
    const fitting = joined && [...joined, ...joined.flatMap((flag) => actionOf.get(flag) ?? [])];
    const hidden = fitting
      ? allFlags.filter((flag) => !fitting.includes(flag))
      : o.short
        ? [o.short, o.long]
        : [];
    const excluded = REPEATABLE.has(o.long)
      ? '*'
      : hidden.length > 0
        ? `(${hidden.join(' ')})`
        : '';
    return o.short
      ? `'${excluded}'{${o.short},${long}}'${described}'`
      : `'${excluded}${long}${described}'`;
  };
  const line = (specs: string[], indent: string) =>
    specs.map((text) => `${indent}${text}`).join(' \\\n');
  const commandList = spec.commands.map((c) => `    '${c.name}:${zshText(c.description)}'`);
  const commandCases = spec.commands.flatMap((c) => {
    if (c.name === 'help')
      return [`        help) _describe -t commands 'proxy-cli command' commands ;;`];
    const flags = actionOf.get(c.name) ?? [];
    const options = spec.options.filter((o) => flags.includes(o.long));
    const values = COMMAND_VALUES[c.name];
    const positional = c.argument
      ? [
          `'1${c.argument.required ? ':' : '::'}${c.argument.name}:${values ? `(${words(values)})` : ' '}'`,
        ]
      : [];
    const specs = [...options.map((o) => optionSpec(o, false)), ...positional];
    return [`        ${c.name})\n          _arguments -s \\\n${line(specs, '            ')} ;;`];
  });
  return `#compdef proxy-cli
# zsh completion for proxy-cli
# This shell:   source <(proxy-cli completion zsh)
# Every shell:  mkdir -p ~/.zfunc && proxy-cli completion zsh > ~/.zfunc/_proxy-cli
#               and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)
compdef _proxy-cli proxy-cli

_proxy-cli() {
  local curcontext="$curcontext" context state state_descr line
  typeset -A opt_args
  local -a commands
  commands=(
${commandList.join('\n')}
  )
  # After a command, only the flags it takes: its own _arguments reads the words from it on.
  _arguments -C -s \\
${line([...spec.options.map((o) => optionSpec(o, true)), "'(-): :->command'", "'(-)*:: :->args'"], '    ')}
  case $state in
    command) _describe -t commands 'proxy-cli command' commands ;;
    args)
      curcontext="\${curcontext%:*:*}:proxy-cli-$words[1]:"
      case $words[1] in
${commandCases.join('\n')}
      esac
      ;;
  esac
}

if [ "$funcstack[1]" = "_proxy-cli" ]; then
  _proxy-cli "$@"
fi
`;
}

/** Text for fish inside single quotes. */
function fishText(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
}

function fishScript(spec: Spec): string {
  const action = '(__proxy_cli_action)';
  /**
   * Offered before any action, and after one (a command, or an action's flag) it goes with; and
   * after the flag itself, where its value goes (`--demo <Tab>`).
   */
  const when = (flag: string) => {
    const takers = spec.actions.filter((a) => a.flags.includes(flag)).flatMap((a) => a.names);
    const itself = Object.values<string>(ACTION_FLAGS).includes(flag) ? [flag] : [];
    return `contains -- ${action} none ${words([...takers, ...itself])}`;
  };
  const lines = spec.options.map((o) => {
    const parts = ['complete -c proxy-cli', `-n '${when(o.long)}'`];
    if (o.short) parts.push(`-s ${o.short.slice(1)}`);
    parts.push(`-l ${o.long.slice(2)}`);
    if (o.values === 'files') parts.push('-r -F');
    else if (o.value !== 'none') parts.push('-x');
    if (Array.isArray(o.values)) parts.push(`-a '${words(o.values)}'`);
    parts.push(`-d '${fishText(o.description)}'`);
    return parts.join(' ');
  });
  const commands = spec.commands.map(
    (c) =>
      `complete -c proxy-cli -n 'test ${action} = none' -a ${c.name} -d '${fishText(c.description)}'`,
  );
  const values = [
    ...Object.entries(COMMAND_VALUES),
    ['help', spec.commands.map((c) => c.name)] as const,
  ].map(
    ([name, list]) => `complete -c proxy-cli -n 'test ${action} = ${name}' -x -a '${words(list)}'`,
  );
  const overrides = OVERRIDES.map(
    ([from, to]) => `; or test $action = ${from} -a $name = ${to}`,
  ).join('');
  return `# fish completion for proxy-cli
# This shell:   proxy-cli completion fish | source
# Every shell:  mkdir -p ~/.config/fish/completions && proxy-cli completion fish > ~/.config/fish/completions/proxy-cli.fish

# The line's action as proxy-cli reads it: the command (the first word that is neither a flag nor
# a flag's value), else the first action's flag, else none. fish's own helpers take a flag's value
# for a command (--submit stats) and miss a flag written --submit=api/x.
function __proxy_cli_action
    set -l words (commandline -opc)
    set -e words[1]
    set -l action none
    set -l i 1
    while test $i -le (count $words)
        set -l word $words[$i]
        set -l name (string split -m 1 = -- $word)[1]
        if contains -- $name ${words(Object.values(ACTION_FLAGS))}
            if test $action = none${overrides}
                set action $name
            end
        end
        switch $word
            case ${words(valuedFlags(spec, 'required'))}
                set i (math $i + 1)
            case ${words(valuedFlags(spec, 'optional'))}
                set -l next (math $i + 1)
                if test $next -le (count $words); and not string match -q -- '-*' $words[$next]
                    set i $next
                end
            case '-*'
            case '*'
                test $action = none; and set action $word
                break
        end
        set i (math $i + 1)
    end
    echo $action
end

complete -c proxy-cli -f
${[...commands, ...values, ...lines].join('\n')}
`;
}
