import StepwiseKit
print("stepwise")
