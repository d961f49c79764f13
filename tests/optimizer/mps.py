"""Minimal free-MPS reader (what GLPK's glp_write_mps(GLP_MPS_FILE) writes) into scipy.optimize.linprog
arguments. Independent of GLPK: it reads only the file."""
import numpy as np
import scipy.sparse as sp


def read_mps(path):
    section = None
    obj_row = None
    row_type, row_index = {}, {}
    col_index, cost = {}, []
    entries = []  # (row name, col index, value)
    rhs = {}
    lo, hi = [], []
    with open(path) as f:
        for raw in f:
            if not raw.strip() or raw.startswith("*"):
                continue
            if not raw[0].isspace():
                section = raw.split()[0]
                continue
            tok = raw.split()
            if section == "ROWS":
                kind, name = tok
                if kind == "N":
                    if obj_row is None:
                        obj_row = name
                    continue  # other N rows are free rows: no constraint
                row_type[name] = kind
                row_index[name] = len(row_index)
            elif section == "COLUMNS":
                if "'MARKER'" in tok:
                    raise ValueError("integer markers: this reader is for LPs")
                col = tok[0]
                if col not in col_index:
                    col_index[col] = len(col_index)
                    cost.append(0.0)
                    lo.append(0.0)
                    hi.append(np.inf)
                j = col_index[col]
                for name, val in zip(tok[1::2], tok[2::2]):
                    if name == obj_row:
                        cost[j] += float(val)
                    elif name in row_index:
                        entries.append((row_index[name], j, float(val)))
            elif section == "RHS":
                for name, val in zip(tok[1::2], tok[2::2]):
                    if name in row_index:
                        rhs[row_index[name]] = float(val)
            elif section == "BOUNDS":
                kind, col = tok[0], tok[2]
                j = col_index[col]
                val = float(tok[3]) if len(tok) > 3 else 0.0
                if kind == "UP":
                    hi[j] = val
                elif kind == "LO":
                    lo[j] = val
                elif kind == "FX":
                    lo[j] = hi[j] = val
                elif kind == "FR":
                    lo[j], hi[j] = -np.inf, np.inf
                elif kind == "MI":
                    lo[j] = -np.inf
                elif kind == "PL":
                    hi[j] = np.inf
                else:
                    raise ValueError("bound type " + kind)
            elif section == "RANGES":
                raise ValueError("RANGES not expected in these LPs")
    m, n = len(row_index), len(col_index)
    kinds = [None] * m
    for name, i in row_index.items():
        kinds[i] = row_type[name]
    r = np.array([e[0] for e in entries], dtype=int)
    c = np.array([e[1] for e in entries], dtype=int)
    v = np.array([e[2] for e in entries])
    A = sp.csr_matrix((v, (r, c)), shape=(m, n))
    b = np.array([rhs.get(i, 0.0) for i in range(m)])
    sign = np.array([{"L": 1.0, "G": -1.0, "E": 0.0}[k] for k in kinds])
    ub_rows = np.nonzero(sign != 0)[0]
    eq_rows = np.nonzero(sign == 0)[0]
    D = sp.diags(sign[ub_rows])
    return dict(c=np.array(cost),
                A_ub=(D @ A[ub_rows]) if len(ub_rows) else None,
                b_ub=(sign[ub_rows] * b[ub_rows]) if len(ub_rows) else None,
                A_eq=A[eq_rows] if len(eq_rows) else None,
                b_eq=b[eq_rows] if len(eq_rows) else None,
                bounds=np.column_stack([lo, hi]) if n else None)
