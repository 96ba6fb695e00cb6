"""Shell completion scripts for bash and zsh, written from the command tree.

The scripts are static: a TAB runs a few shell functions, never Python, so
completing costs nothing of bale's start-up. They complete commands,
subcommands, options, the choices of an option that has them, and file names
for everything else (targets, paths, option values).
"""

from __future__ import annotations

import shlex

from bale.cli.command_tree import Command, Option

_BASH_HEAD = """\
# bash completion for bale, written by `bale completion bash` from its parser.
# Load it in ~/.bashrc with:  source <(bale completion bash)
# or save it once:  bale completion bash > ~/.local/share/bash-completion/completions/bale
"""

# The walk over the words typed so far: options (and the value after one that
# takes a value) are skipped, a word that names a subcommand descends into it.
# bash splits `--out=FILE` into `--out`, `=` and `FILE`.
_BASH_BODY = r"""
_bale() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local command=bale word i _bale_list
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev="${COMP_WORDS[COMP_CWORD-2]}"
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ $word == -* ]]; then
            _bale_valued "$command"
            if [[ " $_bale_list " == *" $word "* ]]; then
                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))
                ((i++))
            fi
            continue
        fi
        _bale_commands "$command"
        [[ " $_bale_list " == *" $word "* ]] && command="$command $word"
    done
    _bale_valued "$command"
    if [[ $prev == -* && " $_bale_list " == *" $prev "* ]]; then
        _bale_choices "$command $prev"
        if [[ -n $_bale_list ]]; then
            COMPREPLY=($(compgen -W "$_bale_list" -- "$cur"))
        else
            _bale_files "$cur"
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        _bale_options "$command"
        COMPREPLY=($(compgen -W "$_bale_list" -- "$cur"))
        return
    fi
    _bale_commands "$command"
    [[ -z $_bale_list ]] && _bale_choices "$command"
    if [[ -n $_bale_list ]]; then
        COMPREPLY=($(compgen -W "$_bale_list" -- "$cur"))
    else
        _bale_files "$cur"
    fi
}

_bale_files() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$1"))
}

complete -o bashdefault -o default -F _bale bale
"""


def bash_script(tree: Command) -> str:
    """A bash script defining `_bale` and registering it for `bale`."""
    commands = tree.walk()
    tables = [
        _bash_table(
            "_bale_commands",
            "the subcommands of a command",
            {c.name: [s.words[-1] for s in c.subcommands] for c in commands},
        ),
        _bash_table(
            "_bale_options",
            "every option of a command",
            {c.name: [f for o in c.options for f in o.flags] for c in commands},
        ),
        _bash_table(
            "_bale_valued",
            "the options of a command that take a value",
            {c.name: [f for o in c.options if o.metavar for f in o.flags] for c in commands},
        ),
        _bash_table(
            "_bale_choices",
            "the values a command's arguments or an option accept, where it names them",
            {c.name: [v for p in c.positionals for v in p.choices] for c in commands}
            | {
                f"{c.name} {flag}": list(o.choices)
                for c in commands
                for o in c.options
                if o.choices
                for flag in o.flags
            },
        ),
    ]
    return _BASH_HEAD + "\n".join(tables) + _BASH_BODY


def _bash_table(function: str, what: str, rows: dict[str, list[str]]) -> str:
    """A function setting `_bale_list` to the words of its argument's row."""
    lines = [f"{function}() {{  # {what}", '    case "$1" in']
    lines += [
        f"        {shlex.quote(key)}) _bale_list={shlex.quote(' '.join(words))} ;;"
        for key, words in rows.items()
        if words
    ]
    lines += ["        *) _bale_list= ;;", "    esac", "}", ""]
    return "\n".join(lines)


_ZSH_HEAD = """\
#compdef bale
# zsh completion for bale, written by `bale completion zsh` from its parser.
# Save it as _bale in a folder of $fpath (before compinit runs), e.g.
#   bale completion zsh > ~/.zfunc/_bale    # with fpath=(~/.zfunc $fpath) in ~/.zshrc
# or load it after compinit with:  source <(bale completion zsh)
"""

_ZSH_TAIL = """
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _bale "$@"
else
    compdef _bale bale
fi
"""


def zsh_script(tree: Command) -> str:
    """A zsh script: one `_arguments` function per command, with the help texts."""
    functions = [_zsh_function(c) for c in tree.walk()]
    return _ZSH_HEAD + "\n".join(functions) + _ZSH_TAIL


def _zsh_function(command: Command) -> str:
    specs = [_zsh_option(option, flag) for option in command.options for flag in option.flags]
    lines = [f"{_zsh_name(command)}() {{"]
    if command.subcommands:
        lines += [
            "    local curcontext=$curcontext state line",
            "    typeset -A opt_args",
            "    _arguments -C \\",
            *(f"        {spec} \\" for spec in specs),
            "        ': :->command' \\",
            "        '*:: :->args'",
            "    case $state in",
            "        command)",
            "            local -a commands=(",
            *(
                f"                {_zsh_quote(_zsh_escape(s.words[-1]) + ':' + s.help)}"
                for s in command.subcommands
            ),
            "            )",
            f"            _describe -t commands {_zsh_quote(command.name + ' command')} commands",
            "            ;;",
            "        args)",
            "            case $line[1] in",
            *(f"                {s.words[-1]}) {_zsh_name(s)} ;;" for s in command.subcommands),
            "            esac",
            "            ;;",
            "    esac",
        ]
    else:
        for positional in command.positionals:
            where = "*" if positional.many else "" if positional.required else ":"
            action = f"({' '.join(positional.choices)})" if positional.choices else "_files"
            specs.append(_zsh_quote(f"{where}:{_zsh_escape(positional.name)}:{action}"))
        lines += ["    _arguments -s \\", *(f"        {spec} \\" for spec in specs)]
        lines[-1] = lines[-1].removesuffix(" \\")
    lines += ["}", ""]
    return "\n".join(lines)


def _zsh_option(option: Option, flag: str) -> str:
    """`--out=[help]:OUT:_files`: `=` (long) or `+` (short) lets the value
    follow in the same word or the next; `*` lets the option repeat."""
    spec = ("*" if option.repeatable else "") + flag
    help = f"[{_zsh_escape(option.help)}]" if option.help else ""
    if option.metavar is None:
        return _zsh_quote(spec + help)
    joins = "=" if flag.startswith("--") else "+"
    action = f"({' '.join(option.choices)})" if option.choices else "_files"
    return _zsh_quote(f"{spec}{joins}{help}:{_zsh_escape(option.metavar)}:{action}")


def _zsh_name(command: Command) -> str:
    return "_" + "_".join(("bale", *command.words)).replace("-", "_")


def _zsh_escape(text: str) -> str:
    """Backslashes before what `_arguments` and `_describe` read as syntax."""
    for char in "\\[]:":
        text = text.replace(char, "\\" + char)
    return text


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
