package codegen

import "github.com/cilium/ebpf/asm"

// peephole removes register moves that the simple one-value-at-a-time
// lowering leaves behind: a move that repeats the one before it, and a
// move back to where a value just came from ("r7 = r0; r0 = r7"). An
// instruction that is a jump target (has a symbol) is never removed, so
// what reaches it from elsewhere is unchanged; its comment, if any, moves
// to the instruction after it.
func peephole(insns asm.Instructions) asm.Instructions {
	out := make(asm.Instructions, 0, len(insns))
	for _, ins := range insns {
		if n := len(out); n > 0 && ins.Symbol() == "" && isMovReg(ins) && isMovReg(out[n-1]) {
			prev := out[n-1]
			same := prev.Dst == ins.Dst && prev.Src == ins.Src
			back := prev.Dst == ins.Src && prev.Src == ins.Dst
			if same || back {
				if ins.Source() != nil {
					// Keep the comment: it starts a statement.
					out = append(out, ins)
				}
				continue
			}
		}
		out = append(out, ins)
	}
	return out
}

func isMovReg(ins asm.Instruction) bool {
	return ins.OpCode == asm.Mov.Op(asm.RegSource) && ins.Reference() == ""
}
