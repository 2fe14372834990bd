from transformers import AutoModelForCausalLM, TrainingArguments
model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B")
args = TrainingArguments(output_dir="café 東京", per_device_train_batch_size=1, gradient_accumulation_steps=16, fp16=True)
