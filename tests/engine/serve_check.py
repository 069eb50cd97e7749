#!/usr/bin/env python3
"""Helper of tests/engine/serve.sh: reads what curl received and prints
one value for the shell to compare.

  serve_check.py json FILE EXPR   evaluate EXPR with j = the parsed JSON body
  serve_check.py sse FILE EXPR    parse a server-sent event stream into
      events (every 'data:' JSON but [DONE]), done_last (the last event is
      [DONE]), text (content / text deltas joined), finish (the last
      non-null finish_reason), usage (of the usage chunk or None), role
      (the first delta's role); evaluate EXPR over them
Prints the value as JSON (strings without quotes); exits 1 when the input
does not parse, printing why."""
import json
import sys


def parse_sse(raw):
    blocks = [b for b in raw.replace('\r\n', '\n').split('\n\n') if b.strip()]
    datas = []
    for b in blocks:
        lines = b.split('\n')
        if len(lines) != 1 or not lines[0].startswith('data: '):
            raise ValueError('not a single data line: %r' % b[:80])
        datas.append(lines[0][6:])
    done_last = bool(datas) and datas[-1] == '[DONE]'
    if datas.count('[DONE]') != 1:
        raise ValueError('[DONE] appears %d times' % datas.count('[DONE]'))
    events = [json.loads(d) for d in datas if d != '[DONE]']
    text, finish, usage, role = '', None, None, None
    for e in events:
        if e.get('usage'):
            usage = e['usage']
        for c in e.get('choices', []):
            d = c.get('delta')
            if d is not None:
                if role is None and 'role' in d:
                    role = d['role']
                text += d.get('content') or ''
            else:
                text += c.get('text') or ''
            if c.get('finish_reason'):
                finish = c['finish_reason']
    return dict(events=events, done_last=done_last, text=text, finish=finish, usage=usage, role=role)


def main():
    mode, path, expr = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, encoding='utf-8') as f:
        raw = f.read()
    try:
        env = {'j': json.loads(raw)} if mode == 'json' else parse_sse(raw)
        v = eval(expr, {'json': json}, env)
    except Exception as e:  # the shell test reports it as a failure
        print('error: %s' % e)
        return 1
    print(v if isinstance(v, str) else json.dumps(v))
    return 0


if __name__ == '__main__':
    sys.exit(main())
