/**
 * Our own small answer corpora for the demo experts (written for this project, not taken from any dataset).
 * The Markov chain recombines these sentences, so each demo expert sounds like its domain.
 */
import type { ExpertId } from '../../gate/types.js';

export const DEMO_CORPUS: Record<ExpertId, readonly string[]> = {
  healthcare: [
    'Rest, drink plenty of water and keep track of your temperature. See a doctor if the fever lasts more than three days. This is general information, not medical advice.',
    'A mild headache often comes from stress, poor sleep or not drinking enough water. If the pain is sudden and severe, seek urgent care. Please talk to a doctor about your own symptoms.',
    'Regular exercise, a balanced diet with vegetables and less salt can lower blood pressure over time. Your doctor can check your blood pressure and suggest a plan.',
    'Most colds get better on their own within a week or two. Rest, fluids and simple pain relief help with the symptoms. Antibiotics do not treat viral infections.',
    'Chest pain with shortness of breath can be a sign of a heart problem. Call emergency services right away. This is not a diagnosis.',
    'Take the medicine exactly as your doctor or pharmacist told you. Do not double a missed dose. Ask your pharmacist about side effects and interactions.',
    'Adults usually need seven to nine hours of sleep. A regular bedtime, less screen time in the evening and less caffeine can help you sleep better.',
    'A balanced diet has vegetables, fruit, whole grains and enough protein. Small changes you can keep are better than strict diets. A dietitian can help with a personal plan.',
    'Type two diabetes is managed with diet, exercise, regular blood sugar checks and sometimes medicine. Your care team can set targets that fit you.',
    'Wash the wound with clean water, cover it with a clean dressing and watch for redness, swelling or fever. See a doctor if it looks infected.',
    'Feeling anxious or low for weeks is common and treatable. Talking to your doctor or a mental health professional is a good first step. If you are in crisis, call a local helpline.',
    'Vaccines train the immune system to recognise an infection. Ask your doctor which vaccines are recommended for your age and health.',
    'I am an automated assistant and cannot examine you. For any worrying symptoms, please see a qualified health professional.',
  ],
  finance: [
    'Start with a budget: list your income, your fixed costs and what you spend each month. Then set aside savings before you spend the rest. This is general information, not financial advice.',
    'An emergency fund of three to six months of expenses protects you from debt when something goes wrong. Keep it in a savings account you can reach quickly.',
    'Pay off high interest debt such as credit cards first, while making the minimum payment on every other loan. This saves the most interest over time.',
    'A diversified portfolio spreads your money across many stocks, bonds and regions. Low cost index funds are a simple way to diversify. Past returns do not guarantee future results.',
    'Compound interest means your returns earn returns. Investing early and regularly matters more than picking the perfect moment.',
    'Your credit score depends on paying bills on time, how much of your credit limit you use and the age of your accounts. Check your credit report for errors once a year.',
    'A retirement account with an employer match is often the first place to invest, because the match is extra money for you. Check the fees and the investment options.',
    'Stocks can rise and fall a lot in the short term. Only invest money you will not need for several years, and consider your own risk tolerance.',
    'Inflation reduces what your savings can buy. Over long periods, investments have usually grown faster than inflation, but there is always risk.',
    'A fixed rate mortgage keeps the same payment for the whole term, while a variable rate can go up or down with interest rates. Compare the total cost, not only the monthly payment.',
    'Taxes depend on where you live and your situation. A qualified tax adviser can tell you which deductions apply to you.',
    'Be careful with offers that promise high returns with no risk. If it sounds too good to be true, it usually is. Consider talking to a licensed financial adviser before you decide.',
  ],
  cybersecurity: [
    'Use a password manager to create a long, unique password for every account, and turn on two factor authentication wherever you can.',
    'Phishing emails try to make you act fast. Check the sender address, do not open unexpected attachments and go to the website yourself instead of clicking the link.',
    'Keep your operating system, browser and apps up to date. Most attacks use known vulnerabilities that already have a patch.',
    'Ransomware encrypts your files and asks for payment. Keep offline backups, test that you can restore them and limit who has administrator rights.',
    'A firewall blocks network traffic you did not allow. Close ports you do not use and only expose the services that really need to be public.',
    'If you think an account was compromised, change the password from a clean device, sign out of other sessions and turn on two factor authentication.',
    'Encrypt sensitive data at rest and in transit. Use TLS for every web service and store keys separately from the data they protect.',
    'Follow the principle of least privilege: give each user and service only the access it needs, and review that access regularly.',
    'Log authentication events and alerts in one place and review them. Fast detection limits the damage of an incident.',
    'A public Wi-Fi network can be watched by others. Use HTTPS sites or a trusted VPN, and avoid logging in to sensitive accounts on shared networks.',
    'Validate and sanitise all user input on the server. SQL injection and cross site scripting happen when input is trusted.',
    'An incident response plan says who to call, how to isolate affected systems and how to preserve evidence. Practise it before you need it.',
  ],
  general: [
    'That is a good question. I can help with general topics, and I can pass health, money or security questions to a specialist expert.',
    'Here is a short answer: break the problem into small steps, try the simplest one first and check the result before you go on.',
    'I am a general assistant. For questions about health, personal finance or computer security, a specialist expert can give a more focused answer.',
    'A good way to learn something new is to practise a little every day, take notes and explain it to someone else.',
    'I do not have live information such as the weather, the news or sports scores. A search engine or an official website will have the latest details.',
    'When you plan a trip, check the opening times, book ahead in busy seasons and leave some free time in your schedule.',
    'Writing clearly means one idea per sentence, short paragraphs and plain words. Read it aloud to find the parts that are hard to follow.',
    'If you are not sure where to start, tell me a bit more about what you want to do and I will suggest a first step.',
    'Thanks for asking. I try to give helpful, honest answers, and I will say so when I do not know.',
  ],
};
