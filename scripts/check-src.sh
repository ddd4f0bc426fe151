#!/usr/bin/env bash
# Fails (exit 1, one "file:line: what" per finding) on unbounded copies and decodes in the C sources.
#   scripts/check-src.sh            checks src/
#   scripts/check-src.sh PATH...    checks these files or directories (*.c, *.h)
# Rules (docs/security-testing.md):
#   1. banned calls: strcpy, strcat, stpcpy, strncpy, strncat, sprintf, vsprintf, gets, getwd (use
#      snprintf, strbuf or memcpy with a bound), and decoders that take no output capacity: the removed
#      crypto_base64url_decode and OpenSSL's EVP_Decode* (use crypto_base64url_decode_bounded);
#   2. scanf-family formats with %s or %[ and no field width;
#   3. memcpy/memmove whose size is not visibly bounded: it must be a sizeof, a constant (literals and
#      UPPER_CASE names), or every variable in it must be bounded earlier in the same function, on a line
#      that compares it (<, >, <=, >= with anything but 0), allocates with it (malloc, calloc, realloc,
#      strbuf_reserve), or assigns it from strnlen or a conditional (k = a < b ? a : b). Otherwise say why
#      it is bounded in a comment on that line or the one before: /* bounded: ... */.
set -euo pipefail
cd "$(dirname "$0")/.."
(($#)) || set -- src
exec python3 - "$@" <<'PY'
import os, re, sys

BANNED = {n: 'unbounded copy: use snprintf, a strbuf or memcpy with a bound' for n in
          ('strcpy', 'strcat', 'stpcpy', 'strncpy', 'strncat', 'sprintf', 'vsprintf', 'gets', 'getwd')}
BANNED['crypto_base64url_decode'] = 'removed decoder without output size: use crypto_base64url_decode_bounded'
for n in ('EVP_DecodeBlock', 'EVP_DecodeUpdate', 'EVP_DecodeFinal'):
    BANNED[n] = 'decoder without output capacity: use crypto_base64url_decode_bounded'
CALL = re.compile(r'\b(' + '|'.join(BANNED) + r')\s*\(')
SCANF = re.compile(r'\b(v?[sf]?scanf)\s*\(')
UNBOUNDED_CONV = re.compile(r'%\*?(?:hh|h|ll|l|L|q|j|z|t)?[s\[]')  # a conversion with no width
COPY = re.compile(r'\b(memcpy|memmove)\s*\(')
IDENT = re.compile(r'[A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*)*')
REL = r'(?<![-<>])(?:<=?|>=?)(?![<>])'
ALLOC = re.compile(r'\b(?:malloc|calloc|realloc|strbuf_reserve)\s*\(')

def strip(text):
    """Blanks out comments, string and character literals, keeping line breaks and offsets."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif text.startswith('//', i):
            j = text.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (min(j, n) - i - 1) + (c if j < n else '')); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)

def args_at(code, start):
    """The top-level arguments of the call whose '(' is at start, and the offset after its ')'."""
    depth, args, cur, i = 0, [], start + 1, start
    while i < len(code):
        c = code[i]
        if c in '([{': depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append(code[cur:i]); return args, i + 1
        elif c == ',' and depth == 1:
            args.append(code[cur:i]); cur = i + 1
        i += 1
    return args, i

def variables(size):
    size = re.sub(r'\(\s*(?:(?:const|unsigned|signed|struct)\s+)*[A-Za-z_]\w*\s*\**\s*\)(?=\s*[A-Za-z_(])', ' ', size)  # casts
    size = re.sub(r'\bsizeof\s*\(\s*[^()]*(?:\([^()]*\)[^()]*)*\)', ' ', size)   # sizeof(x)
    size = re.sub(r'\bsizeof\s+[*&]*' + IDENT.pattern + r'(?:\s*\[[^]]*\])*', ' ', size)  # sizeof x, sizeof *x
    names = []
    for m in IDENT.finditer(size):
        name = re.sub(r'\s+', '', m.group(0))
        after = size[m.end():].lstrip()
        if after.startswith('('): names.append(name + '()')      # a call: its result is not bounded
        elif not re.fullmatch(r'[A-Z_][A-Z0-9_]*', name): names.append(name)
    return names

def bounded(name, before):
    """1 when a line before compares name with something other than 0, allocates with it, or sets it from
    strnlen or a conditional (a minimum: k = a < b ? a : b)."""
    if name.endswith('()'): return False
    var = r'(?<![\w>.])' + re.escape(name).replace(r'\->', r'\s*->\s*').replace(r'\.', r'\s*\.\s*') + r'(?!\w)'
    other = r'(?!\s*0\b)\s*[\w(]'
    compared = re.compile(var + r'\s*' + REL + other + '|' + r'(?<![\w.])(?!0\b)[\w)\]]+\s*' + REL + r'\s*' + var)
    for line in before:
        if re.search(var, line) and (compared.search(line) or ALLOC.search(line) or
                                     re.search(var + r'\s*=\s*strnlen\s*\(', line) or
                                     re.search(var + r'\s*=(?!=)[^;]*' + REL + r'[^;]*\?', line)):
            return True
    return False

def check(path, findings):
    raw = open(path, encoding='utf-8', errors='replace').read()
    code, lines, raw_lines = strip(raw), None, raw.split('\n')
    lines = code.split('\n')
    line_of = lambda off: code.count('\n', 0, off) + 1
    def say(off, what): findings.append(f'{path}:{line_of(off)}: {what}')
    for m in CALL.finditer(code):
        say(m.start(), f'{m.group(1)}: {BANNED[m.group(1)]}')
    for m in SCANF.finditer(code):
        args, _ = args_at(code, m.end() - 1)
        fmt_i = 0 if m.group(1) in ('scanf', 'vscanf') else 1
        if len(args) > fmt_i:
            a, b = m.end() - 1 + 1, m.end() - 1 + 1 + sum(len(x) + 1 for x in args[:fmt_i + 1])
            text = ' '.join(re.findall(r'"((?:[^"\\]|\\.)*)"', raw[a:b])).replace('%%', '')
            if UNBOUNDED_CONV.search(text): say(m.start(), f'{m.group(1)}: %s or %[ without a field width')
    for m in COPY.finditer(code):
        args, _ = args_at(code, m.end() - 1)
        if len(args) != 3: continue
        n = line_of(m.start())
        note = '\n'.join(raw_lines[max(0, n - 2):n])
        if 'bounded:' in note: continue
        start = n - 1                                      # the function: back to a '{' in column 0
        while start > 0 and not lines[start].startswith('{'): start -= 1
        before = lines[start:n - 1] + [code[code.rfind('\n', 0, m.start()) + 1:m.start()]]
        loose = [v for v in variables(args[2]) if not bounded(v, before)]
        if loose:
            say(m.start(), f'{m.group(1)}: size "{" ".join(args[2].split())}" not visibly bounded ({", ".join(loose)}): '
                           'compare it first, or say why in /* bounded: ... */')

findings = []
for root in sys.argv[1:]:
    paths = [root] if os.path.isfile(root) else sorted(
        os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(('.c', '.h')))
    for p in paths: check(p, findings)
findings.sort(key=lambda f: (f.split(':')[0], int(f.split(':')[1])))
for f in findings: print(f, flush=True)
if findings:
    print(f'check-src: {len(findings)} finding(s)', file=sys.stderr)
    sys.exit(1)
PY
