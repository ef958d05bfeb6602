"""(stub: being written)"""

from mlgate.hook import Scanner

SCANNER = Scanner("workflows", matches=lambda path: False, scan=lambda source, context: [])
